"""Weights for :mod:`knowledge.ranking`, written by ``bench/fit_ranking.py``. Do not edit by hand."""

TOPIC_DENSE = {"bias": -6.0152, "dense": 11.1986, "unknown": -8.9153, "cover": -0.8478, "sentence": 6.4096}
ON_TOPIC_AT = 0.407
RANKER_DENSE = {
    "bm25": 0.0371,
    "bm25_rank": -0.4312,
    "dense": 0.075,
    "dense_rank": 0.0541,
    "dense_norm": 2.4556,
    "cover": 4.297,
    "cover_text": 0.8386,
    "cover_context": 3.4584,
    "cover_path": 1.2317,
    "section": 1.3903,
    "phrase": 1.7795,
    "sentence": 1.8826,
    "first": 1.2406,
    "typed": 2.0206,
    "untyped": -2.0206,
    "defines": 6.2893,
    "topic": 1.9532,
    "named": -0.5708,
    "topic_asked": 2.7079,
    "role": 2.2052,
    "fragment": -0.1075,
    "length": -0.9118,
}
JUDGE_DENSE = {
    "bias": -5.5126,
    "score": -0.0895,
    "margin": 0.4805,
    "cover": 6.3496,
    "cover_text": -3.0708,
    "dense": 1.0344,
    "answer_dense": 4.1198,
    "unknown": -4.4775,
    "defines": 4.4844,
    "role": 3.622,
    "typed": 1.0196,
    "untyped": 2.1589,
}
ANSWERED_AT = 0.662
TOPIC_KEYWORD = {"bias": -3.6337, "dense": 0.0, "unknown": -7.3958, "cover": 3.3753, "sentence": 9.9523}
ON_TOPIC_AT_KEYWORD = 0.361
RANKER_KEYWORD = {
    "bm25": 2.6906,
    "bm25_rank": -0.3269,
    "dense": 0.0,
    "dense_rank": 0.0,
    "dense_norm": 0.0,
    "cover": 4.3424,
    "cover_text": 0.5088,
    "cover_context": 3.8336,
    "cover_path": 2.2869,
    "section": 0.0292,
    "phrase": 2.8941,
    "sentence": 2.4946,
    "first": 1.236,
    "typed": 2.3654,
    "untyped": -2.3654,
    "defines": 6.7616,
    "topic": 1.5609,
    "named": -0.1655,
    "topic_asked": 2.9969,
    "role": 2.8768,
    "fragment": -0.0724,
    "length": -0.6034,
}
JUDGE_KEYWORD = {
    "bias": -3.3534,
    "score": 0.051,
    "margin": 0.7527,
    "cover": 4.8564,
    "cover_text": -3.1486,
    "dense": 0.0,
    "answer_dense": 0.0,
    "unknown": -4.1909,
    "defines": 1.6954,
    "role": 3.6054,
    "typed": 0.5972,
    "untyped": 1.7799,
}
ANSWERED_AT_KEYWORD = 0.684
