#!/bin/sh
# The corpus of tests/400-corpus.t again, each message delivered through
# qmail-dkimc with a qmail-dkimd signing: the same verdicts, the same
# contract, whichever of the two programs signs.
CORPUS_VIA_DAEMON=1
. "${0%/*}/400-corpus.t"
