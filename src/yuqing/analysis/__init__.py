"""Analysis: language, target matching, entities, sentiment, risk and influence."""
