"""Data protection duties that run: retention with anonymisation, legal hold, pseudonymised audit."""
