"""The ingest fast paths give exactly what the general code gives (URLs, shingle hashes, the GC pause)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from yuqing.sources.dedup import NearDupIndex, dedup_key, shingle_hashes, shingle_hashes_many
from yuqing.sources.service import gc_paused
from yuqing.sources.urls import _general, _simple, canonicalise


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://weibo.example.com/12?utm_source=bench", "https://weibo.example.com/12"),
        ("https://a.com", "https://a.com/"),
        ("https://a.com?", "https://a.com/"),
        ("http://a.com/x/?b=2&a=1&a=0", "http://a.com/x/?a=0&a=1&b=2"),
        ("https://a.com/p?flag&spm=1.2&x=", "https://a.com/p?flag=&x="),
        ("https://a.com/p?=v&&k=v", "https://a.com/p?k=v"),
        ("https://a-b.c-d.com/~u/x.y_z-1", "https://a-b.c-d.com/~u/x.y_z-1"),
        ("http://1.2.3.4/", "http://1.2.3.4/"),
    ],
)
def test_simple_urls_take_the_fast_path(url: str, expected: str) -> None:
    assert _simple(url) == expected
    assert _general(url) == expected
    assert canonicalise(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://a.com/",  # scheme case
        "https://A.com/",  # host case
        "https://a.com./",  # trailing dot
        "https://a.com:443/",  # port
        "https://u@a.com/",  # user info
        "https://a.com/#frag",  # fragment
        "https://a.com/%7Ex",  # escapes
        "https://a.com/a b",  # space
        "https://a.com/?a=b=c",  # "=" in a value is re-encoded
        "https://a.com/?q=a+b",  # "+" means a space
        "https://例子.中国/",  # IDNA
        "https://a_b.com/",  # underscore host
        "ftp://a.com/",  # not http(s)
    ],
)
def test_other_urls_take_the_general_path(url: str) -> None:
    assert _simple(url) is None
    assert canonicalise(url) == _general(url)


KEYS = ["华信银行信用卡分期手续费引发关注", "abc", "abcd", "东岳银行回应称😀将整改", "x" * 30]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_batch_shingle_hashes_equal_one_by_one(k: int) -> None:
    hashes, counts = shingle_hashes_many(KEYS, k)
    singles = [shingle_hashes(key, k) for key in KEYS]
    assert counts.tolist() == [s.size for s in singles]
    assert np.array_equal(hashes, np.concatenate(singles))


def test_batch_signatures_equal_one_by_one() -> None:
    index = NearDupIndex(min_chars=3)
    texts = [*KEYS, "短", "转发微博//@某某: " + KEYS[0]]
    batch = index.signatures(texts)
    for text, sig in zip(texts, batch, strict=True):
        one = index.signature(text)
        assert (sig is None) == (one is None) == (len(dedup_key(text)) < 3)
        if sig is not None and one is not None:
            assert np.array_equal(sig.hashvalues, one.hashvalues)


def test_gc_pause_nests_and_restores() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
