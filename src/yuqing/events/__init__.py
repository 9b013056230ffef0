"""Events: clustering mentions into stories, early signs and grading I-IV."""
