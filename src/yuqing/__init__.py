"""yuqing (舆情): public-opinion monitoring and emergency response for financial institutions."""

__version__ = "0.1.0"
