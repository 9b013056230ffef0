"""Notifier plugins, one per channel, registered under the ``yuqing.notifiers`` entry-point group."""
