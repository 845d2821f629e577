#!/bin/bash
# Replays every fuzzing seed and every input a fuzzer once crashed on
# (tests/fuzz/corpus/NAME/) through its harness, built with the suite's own
# compiler flags (ASan+UBSan under SANITIZE=1): a fixed crash stays fixed.
. "$(dirname "$0")/lib.sh"
test_description 'fuzzing corpus and regressions replay cleanly'

for dir in "$BK_ROOT"/tests/fuzz/corpus/*/; do
	name=$(basename "$dir")
	replay=$BK_ROOT/tests/fuzz/bin/replay-$name
	test_expect_success "corpus $name: $(ls "$dir" | wc -l) inputs replay without a crash" "
		test -x '$replay' &&
		'$replay' '$dir'/*
	"
done

test_done
