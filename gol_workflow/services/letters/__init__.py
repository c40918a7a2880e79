"""Letters to the person: convocation to the equipe, the equipe's decision, the first appointment, the project to sign."""
