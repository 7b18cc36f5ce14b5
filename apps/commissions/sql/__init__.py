"""The ledger's set-based statements: one definition of the rules for one order or a million.

``dialect`` holds the pieces every statement shares (tables, the commission
and clawback arithmetic in integer cents, settlement periods, the terms in
force); ``entries`` writes ledger entries, ``settlements`` opens, claims and
closes settlements, ``checks`` finds breaches of the ledger's invariants.
Each builder renders its statement once per database vendor and caches it.
"""
