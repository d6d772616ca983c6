"""One module per API area; each builds ``Call`` descriptions and parses records."""
