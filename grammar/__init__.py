"""The PQL grammar (pql.lark), shipped inside the installed package as pqltools.grammar."""
