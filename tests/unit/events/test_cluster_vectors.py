"""English word vectors in the online clusterer: the shipped table, the bookkeeping, the scores."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from yuqing.errors import ConfigError
from yuqing.events.cluster import ClusterParams, Doc, OnlineClusterer
from yuqing.events.evaluate import vectors_from_settings
from yuqing.events.settings import EventSettings
from yuqing.events.tokens import text_tokens
from yuqing.events.vectors import TokenVectors, load_vectors

WORDS = ["rate", "hike", "fed", "bank", "quake", "japan", "tsunami", "vote", "party", "iphone", "chip", "oil"]


def _tiny_vectors(seed: int = 0) -> TokenVectors:
    """A WordPiece tokenizer over WORDS and random 8-dimensional piece vectors."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    table = np.random.default_rng(seed).normal(size=(len(vocab), 8)).astype(np.float32)
    return TokenVectors(table, tok.to_str(), "tiny-1")


def _shipped() -> TokenVectors:
    vectors = load_vectors()
    assert vectors is not None, "token_vectors_en.npz is shipped with the package"
    return vectors


def test_shipped_table_loads_and_knows_related_words() -> None:
    v = _shipped()
    assert v.version.startswith("token_vectors_en-") and v.dim == 256
    assert v.table.shape[0] > 30_000

    def mean(text: str) -> np.ndarray:
        s, n = v.sum_vector(dict.fromkeys(text.split(), 1))
        assert s is not None
        return s / n

    centre = np.mean(
        [mean(t) for t in ("stocks fall", "football cup", "president visits", "oil surge")], axis=0
    )

    def cos(a: str, b: str) -> float:
        x, y = mean(a) - centre, mean(b) - centre
        return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))

    assert cos("earthquake strikes japan", "quake jolts tokyo") > cos(
        "earthquake strikes japan", "apple iphone"
    )
    assert cos("fed raises rates", "central bank hikes borrowing costs") > cos(
        "fed raises rates", "quake jolts"
    )


@pytest.mark.parametrize(
    ("token", "has_vector"),
    [
        ("inflation", True),
        ("unbelievably", True),
        ("café", True),
        ("手续费", False),
        ("app登录", False),
        ("ｆｅｅ", False),
        ("@t:3", False),
        ("~fee", False),
        ("", False),
    ],
)
def test_only_latin_script_words_get_vectors(token: str, has_vector: bool) -> None:
    v = _shipped()
    assert bool(v.pieces(token)) is has_vector
    s, n = v.sum_vector({token: 2, "@r:数据泄露": 1})
    assert (s is not None, n) == ((True, 2) if has_vector else (False, 0))


def test_a_word_is_the_sum_of_its_pieces_not_padded() -> None:
    v = _shipped()
    pieces = v.pieces("unbelievably")
    assert 1 < len(pieces) < 6  # the model's tokenizer file pads to 128; ours must not
    s, n = v.sum_vector({"unbelievably": 3})
    assert n == 3 and s is not None
    assert np.allclose(s, 3 * v.table[list(pieces)].sum(axis=0), atol=1e-4)


def test_bad_table_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "v.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="invalid token vector file"):
        TokenVectors.load(bad)
    np.savez(tmp_path / "w.npz", rows=np.zeros((2, 2), np.int8))
    with pytest.raises(ConfigError):
        TokenVectors.load(tmp_path / "w.npz")


def test_settings_switch_the_vectors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert vectors_from_settings(EventSettings()) is _shipped()
    assert vectors_from_settings(EventSettings(cluster_vector_weight=0)) is None
    with pytest.raises(ConfigError, match="not found"):
        vectors_from_settings(EventSettings(cluster_vectors_file=str(tmp_path / "missing.npz")))
    assert OnlineClusterer(ClusterParams(vector_weight=0), _shipped()).vectors is None


STORIES = [
    "japan election prime minister wins vote",
    "japan election ruling party wins vote",
    "japan earthquake tsunami warning coast",
    "japan earthquake tsunami warning lifted",
    "apple unveils new iphone chip",
    "oil prices surge opec cuts output",
    "football club wins league cup",
    # other stories: the term needs 20 active events with vectors (their mean centres the cosines)
    "hollywood actor stars in summer blockbuster",
    "wildfire forces thousands to evacuate california",
    "nasa rover finds water on mars",
    "central bank holds interest rates steady",
    "tennis champion retires after injury",
    "airline cancels flights over pilot strike",
    "scientists develop new cancer vaccine",
    "city council approves new subway line",
    "gold price hits record high",
    "hackers steal millions of customer passwords",
    "famous painter exhibition opens in paris",
    "volcano erupts on remote island",
    "electric car maker recalls vehicles",
    "olympic swimmer breaks world record",
    "drought threatens wheat harvest",
]


def test_vectors_send_a_paraphrase_to_its_story() -> None:
    """Both Japanese stories share only "japan" with the probe; the words' meaning decides."""
    probe = Doc(50, text_tokens("japan voters go to polls"))
    plain = OnlineClusterer()
    ids = [plain.assign(Doc(i, text_tokens(t)))[0] for i, t in enumerate(STORIES)]
    election, quake = ids[0], ids[2]
    assert ids[:4] == [election, election, quake, quake]
    assert plain.choose(probe) is None  # a bag of words opens a new event

    with_vectors = OnlineClusterer(None, _shipped())
    assert [with_vectors.assign(Doc(i, text_tokens(t)))[0] for i, t in enumerate(STORIES)] == ids
    assert with_vectors.choose(probe) == election
    best, _, _ = with_vectors.best(dict.fromkeys(text_tokens("quake jolts japan"), 1))
    assert best == quake
    assert len(with_vectors._means.slot) == 20


def test_few_english_events_get_no_vector_term() -> None:
    """The mean of two events is mostly those events: a second mention of the only English story
    would be pushed away from it. Below ``vector_min_events`` the bag of words decides alone."""
    stream = ["bank fined for hidden credit card fees", "regulator fines bank over hidden card fees"]
    probe = dict.fromkeys(text_tokens("customers angry at bank card fee charges"), 1)
    plain, with_vectors = OnlineClusterer(), OnlineClusterer(None, _shipped())
    for c in (plain, with_vectors):
        for i, t in enumerate(stream):
            c.assign(Doc(i, text_tokens(t)))
    assert with_vectors.best(probe) == plain.best(probe)
    few = OnlineClusterer(ClusterParams(vector_min_events=1), _shipped())
    for i, t in enumerate(stream):
        few.assign(Doc(i, text_tokens(t)))
    assert few.best(probe)[1] < plain.best(probe)[1]  # what the threshold prevents


def _check_vectors(c: OnlineClusterer) -> None:
    """Every active cluster's vector is the sum over its token counts; the active mean is their sum."""
    assert c.vectors is not None
    total = np.zeros(c.vectors.dim)
    words = 0
    for cid, st in c.active.items():
        s, n = c.vectors.sum_vector(st.counts)
        assert st.vec_n == n
        if n:
            assert st.vec is not None and np.allclose(st.vec, s, atol=1e-3)
            assert np.allclose(c._means.rows[c._means.slot[cid]], s / n, atol=1e-4)
            total += s
            words += n
        else:
            assert cid not in c._means.slot
    assert c._gn == words
    if words:
        assert c._gvec is not None and np.allclose(c._gvec, total, atol=1e-3)
    assert set(c._means.slot) <= set(c.active)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectors_follow_the_counts_through_every_change(seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    params = ClusterParams(dormant_after=timedelta(hours=5), min_docs=5, min_vocab=20, vector_min_events=2)
    c = OnlineClusterer(params, _tiny_vectors())
    docs = []
    for i in range(60):  # two topics, one after the other: the first one's clusters go dormant
        topic = WORDS[:6] if i < 30 else WORDS[6:]
        words = rng.sample(topic, 3) + rng.sample(["某行", "@t:1", "~fee", "@r:x"], 1)
        docs.append(Doc(i, words, start + timedelta(hours=i // 3)))
    for k in range(0, 60, 10):
        c.run(docs[k : k + 10], batch=5)  # places, refines (moves) and lets clusters go dormant
        _check_vectors(c)
    assert c.dormant
    target = next(iter(c.active))
    c.absorb(target, {"fed": 2, "rate": 1}, 1, None)  # analyst merge
    _check_vectors(c)
    c.withdraw(target, {"fed": 1, "quake": 50}, 1)  # split (more than it holds is capped)
    _check_vectors(c)
    c.restore(999, {"oil": 3, "chip": 1, "某行": 2}, 2, start)
    _check_vectors(c)
    woken = next(iter(c.dormant))
    assert c.dormant[woken].vec is not None and c.dormant[woken].vec_n > 0  # summary of its top tokens
    c.place(Doc(500, ["oil"], start + timedelta(days=30)), woken)
    assert woken in c.active
    _check_vectors(c)
    c.close(target)
    _check_vectors(c)


def test_hot_path_and_reference_scores_agree_with_vectors() -> None:
    c = OnlineClusterer(None, _shipped())
    for i, t in enumerate(STORIES):
        c.assign(Doc(i, [*text_tokens(t), "@t:1"]))
    for text in ("japan voters go to polls", "quake jolts japan", "opec oil output cut"):
        counts = dict.fromkeys([*text_tokens(text), "@t:1"], 1)
        best, score, _ = c.best(counts)
        assert best is not None
        groups = c._groups(counts)
        scored = c._scored(counts)
        parts = c._doc_parts(scored)
        vbeta = c._vocab() * c.params.beta
        ref = c._score_one(c.active[best], scored, groups, parts, vbeta, c._doc_direction(scored))
        assert ref == pytest.approx(score, abs=1e-4)  # float32 vectors
