"""Unit tests of models.trainer (`make test-train` runs them with the end-to-end test):
python -m unittest discover -s models/tests -t ."""
