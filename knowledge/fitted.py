"""Weights for :mod:`knowledge.ranking`, written by ``bench/fit_ranking.py``. Do not edit by hand."""

TOPIC_DENSE = {'bias': -6.4066, 'dense': 11.7503, 'unknown': -8.0701, 'cover': -0.276, 'sentence': 5.9424}
ON_TOPIC_AT = 0.339
RANKER_DENSE = {'bm25': 0.0852, 'bm25_rank': -0.791, 'dense': 0.4168, 'dense_rank': -0.3197, 'dense_norm': 2.6859, 'cover': 4.3004, 'cover_text': 0.8843, 'cover_context': 3.4161, 'cover_path': 1.2684, 'section': 1.6683, 'phrase': 1.6624, 'sentence': 1.9047, 'first': 1.2273, 'typed': 2.0275, 'untyped': -2.0275, 'defines': 6.2164, 'topic': 1.8733, 'named': -0.4303, 'topic_asked': 2.5852, 'role': 2.417, 'fragment': -0.0316, 'length': -1.0179}
JUDGE_DENSE = {'bias': -5.9022, 'score': -0.0992, 'margin': 0.2924, 'cover': 9.4016, 'cover_text': -5.8172, 'dense': 1.7131, 'answer_dense': 4.7901, 'unknown': -5.1717, 'defines': 4.067, 'role': 3.7159, 'typed': 0.8467, 'untyped': 0.8024}
ANSWERED_AT = 0.704
TOPIC_KEYWORD = {'bias': -4.3616, 'dense': 0.0, 'unknown': -6.3284, 'cover': 4.8675, 'sentence': 9.4235}
ON_TOPIC_AT_KEYWORD = 0.376
RANKER_KEYWORD = {'bm25': 2.7076, 'bm25_rank': -0.5889, 'dense': 0.0, 'dense_rank': 0.0, 'dense_norm': 0.0, 'cover': 4.192, 'cover_text': 0.5434, 'cover_context': 3.6485, 'cover_path': 2.3262, 'section': 0.3094, 'phrase': 2.5949, 'sentence': 2.4343, 'first': 1.166, 'typed': 2.3376, 'untyped': -2.3376, 'defines': 6.7074, 'topic': 1.4729, 'named': -0.0755, 'topic_asked': 2.916, 'role': 2.9514, 'fragment': -0.011, 'length': -0.5757}
JUDGE_KEYWORD = {'bias': -3.6243, 'score': 0.0779, 'margin': 0.6873, 'cover': 7.0738, 'cover_text': -5.1136, 'dense': 0.0, 'answer_dense': 0.0, 'unknown': -5.3521, 'defines': 1.3332, 'role': 3.5198, 'typed': 0.654, 'untyped': 1.5}
ANSWERED_AT_KEYWORD = 0.641
