"""Weights for :mod:`knowledge.ranking`, written by ``bench/fit_ranking.py``. Do not edit by hand."""

RANKER_DENSE = {'bm25': 0.4261, 'bm25_rank': -0.6695, 'dense': 0.5781, 'dense_rank': -0.6567, 'dense_norm': 2.8503, 'cover': 4.0495, 'cover_text': 0.6633, 'cover_context': 3.3862, 'cover_path': 0.9482, 'section': 1.7509, 'phrase': 1.5562, 'sentence': 1.9745, 'first': 1.2248, 'typed': 2.0764, 'untyped': -2.0764, 'defines': 6.2032, 'topic': 1.5379, 'named': -0.0134, 'topic_asked': 2.8531, 'role': 2.3577, 'fragment': -0.0306, 'length': -0.8484}
JUDGE_DENSE = {'bias': -4.7194, 'score': -0.2543, 'margin': 0.3225, 'cover': 9.2551, 'cover_text': -5.2488, 'dense': 3.8955, 'answer_dense': 3.0813, 'unknown': -2.5428, 'defines': 5.7326, 'role': 3.7594, 'typed': 1.2793, 'untyped': 0.4965}
ANSWERED_AT = 0.824
UNSURE_AT = 0.043
RANKER_KEYWORD = {'bm25': 2.8881, 'bm25_rank': -0.3363, 'dense': 0.0, 'dense_rank': 0.0, 'dense_norm': 0.0, 'cover': 3.6047, 'cover_text': 0.133, 'cover_context': 3.4718, 'cover_path': 1.9186, 'section': 0.2501, 'phrase': 2.5154, 'sentence': 2.3842, 'first': 1.1761, 'typed': 2.337, 'untyped': -2.337, 'defines': 6.3368, 'topic': 1.3396, 'named': 0.2558, 'topic_asked': 2.4398, 'role': 2.8945, 'fragment': -0.0185, 'length': -0.4177}
JUDGE_KEYWORD = {'bias': -4.0035, 'score': 0.1055, 'margin': 0.6527, 'cover': 5.2809, 'cover_text': -3.1782, 'dense': 0.0, 'answer_dense': 0.0, 'unknown': -3.0652, 'defines': 0.1119, 'role': 3.5573, 'typed': 0.7721, 'untyped': 1.2588}
ANSWERED_AT_KEYWORD = 0.765
UNSURE_AT_KEYWORD = 0.028
