#!/bin/bash
# lib/crypt against the real tools (Debian packages minisign and age), through
# the test driver tests/tools/bin/crypt-tool: signatures both ways, encryption
# both ways at the 64 KiB chunk edges, several recipients, and wrong keys,
# truncated, reordered and bit-flipped files refused.
. "$(dirname "$0")/lib.sh"
test_description 'minisign and age interoperability of lib/crypt'

CT=$BK_BUILD_DIR/tests/tools/bin/crypt-tool
[ -x "$CT" ] || test_skip_all "$CT is not built (make units)"
for t in minisign age age-keygen; do
	command -v $t >/dev/null ||
		test_skip_all "$t is not installed (tools/install-deps installs minisign and age)"
done

# refused CMD... : exit 1, nothing on stdout kept, the message in err.
refused() {
	test_expect_code 1 "$@" >out 2>err && ! grep -q Sanitizer err
}

# flip_b64 FILE OFFSET: another base64 letter at OFFSET (a flipped bit may
# leave the alphabet: the file would then be malformed, not altered).
flip_b64() {
	local c
	c=$(dd if="$1" bs=1 skip="$2" count=1 status=none)
	if [ "$c" = A ]; then c=B; else c=A; fi
	printf %s "$c" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# payload FILE: offset of the first payload chunk (after the MAC line and nonce).
payload() {
	echo $(($(grep -abo -m1 -- '^--- ' "$1" | head -n 1 | cut -d: -f1) + 48 + 16))
}

test_expect_success 'setup: keys and data' '
	minisign -G -W -p k.pub -s k.key >/dev/null &&
	minisign -G -W -p other.pub -s other.key >/dev/null &&
	age-keygen -o id1.txt 2>/dev/null &&
	age-keygen -o id2.txt 2>/dev/null &&
	age-keygen -o id3.txt 2>/dev/null &&
	for n in 0 1 65536 65537 3000000; do head -c $n /dev/urandom >data-$n || exit 1; done &&
	printf "MANIFEST line\n" >msg
'

test_expect_success 'bk signs, minisign -V accepts it' '
	"$CT" sign k.key msg "bk trusted comment" >msg.minisig &&
	minisign -Vm msg -p k.pub >out &&
	printf "%s\n" "Signature and comment signature verified" \
		"Trusted comment: bk trusted comment" >expect &&
	test_cmp expect out
'

test_expect_success 'bk signs in the prehashed form (minisign -V -H accepts it)' '
	"$CT" sign k.key data-3000000 >data.minisig &&
	minisign -V -H -q -m data-3000000 -x data.minisig -p k.pub
'

test_expect_success 'minisign -V refuses a bk signature of other data' '
	cp msg msg2 && echo x >>msg2 &&
	test_expect_code 1 minisign -V -q -m msg2 -x msg.minisig -p k.pub
'

test_expect_success 'the public key bk derives from a minisign -G -W key is minisign.pub' '
	"$CT" pubkey k.key >pub &&
	test_cmp k.pub pub
'

test_expect_success 'minisign signs (prehashed, default), bk verifies' '
	minisign -S -s k.key -m data-65537 -t "from minisign" >/dev/null &&
	"$CT" verify k.pub data-65537 data-65537.minisig >out &&
	id=$(sed -n "1s/.*key //p" k.pub) &&
	printf "key %s\ntrusted comment: from minisign\n" "$id" >expect &&
	test_cmp expect out
'

test_expect_success 'minisign signs in the legacy form (-l), bk verifies' '
	minisign -S -l -s k.key -m data-1 -t legacy >/dev/null &&
	"$CT" verify k.pub data-1 data-1.minisig >out &&
	grep -qx "trusted comment: legacy" out
'

test_expect_success 'minisign signs an empty file, bk verifies' '
	minisign -S -s k.key -m data-0 >/dev/null &&
	"$CT" verify k.pub data-0 data-0.minisig
'

test_expect_success 'bk refuses a minisign signature of other data' '
	refused "$CT" verify k.pub data-65536 data-65537.minisig &&
	echo "crypt-tool: signature: bad signature: the data does not match" >expect &&
	test_cmp expect err
'

test_expect_success 'bk refuses a signature by another key, naming both IDs' '
	refused "$CT" verify other.pub data-65537 data-65537.minisig &&
	a=$(sed -n "1s/.*key //p" k.pub) && b=$(sed -n "1s/.*key //p" other.pub) &&
	echo "crypt-tool: signature: made by key $a, not by the verify key $b" >expect &&
	test_cmp expect err
'

test_expect_success 'bk refuses an altered trusted comment' '
	sed "3s/from minisign/from someone/" data-65537.minisig >forged.minisig &&
	refused "$CT" verify k.pub data-65537 forged.minisig &&
	echo "crypt-tool: signature: bad signature of the trusted comment" >expect &&
	test_cmp expect err
'

for n in 0 1 65536 65537 3000000; do
	test_expect_success "$n bytes: bk encrypts to two recipients, age -d decrypts with each" "
		\"\$CT\" encrypt -r \"\$(age-keygen -y id1.txt), \$(age-keygen -y id2.txt)\" \
			<data-$n >bk-$n.age &&
		age -d -i id1.txt bk-$n.age >out1 && cmp data-$n out1 &&
		age -d -i id2.txt bk-$n.age >out2 && cmp data-$n out2
	"
	test_expect_success "$n bytes: age -r encrypts, bk decrypts (push and pull)" "
		age -r \"\$(age-keygen -y id1.txt)\" -o age-$n.age data-$n &&
		\"\$CT\" decrypt -i id1.txt <age-$n.age >out &&
		cmp data-$n out &&
		\"\$CT\" decrypt --reader -i id1.txt <age-$n.age >out &&
		cmp data-$n out
	"
done

test_expect_success 'to one recipient, bk and age write files of the same size' '
	for n in 0 1 65536 65537 3000000; do
		"$CT" encrypt -r "$(age-keygen -y id1.txt)" <data-$n >one.age &&
		test $(wc -c <one.age) = $(wc -c <age-$n.age) || exit 1
	done
'

test_expect_success 'age -R FILE (comments, three recipients) encrypts, bk decrypts with each' '
	{ echo "# admins"; age-keygen -y id1.txt; echo; age-keygen -y id2.txt;
	  age-keygen -y id3.txt; } >recipients.txt &&
	age -R recipients.txt -o r.age data-65537 &&
	for i in 1 2 3; do
		"$CT" decrypt -i id$i.txt <r.age >out && cmp data-65537 out || exit 1
	done
'

test_expect_success 'bk reads the same age -R file' '
	"$CT" encrypt -R recipients.txt <data-65537 >bkr.age &&
	age -d -i id3.txt bkr.age >out && cmp data-65537 out
'

test_expect_success 'a wrong identity is refused by bk (and by age)' '
	refused "$CT" decrypt -i id3.txt <age-65537.age &&
	printf "%s\n" "crypt-tool: age: no identity matches: the file was encrypted to other recipients" \
		"hint: decrypt with the identity of one of its recipients" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id3.txt -o /dev/null bk-65537.age 2>/dev/null
'

test_expect_success 'setup: a three-chunk file from age' '
	head -c 150000 /dev/urandom >data-big &&
	age -r "$(age-keygen -y id1.txt)" -o big.age data-big &&
	p=$(payload big.age) && echo $p >payload-offset &&
	test $(($(wc -c <big.age) - p)) = $((150000 + 3 * 16))
'

test_expect_success 'truncated after two whole chunks: refused as truncated' '
	head -c $(($(cat payload-offset) + 2 * 65552)) big.age >cut.age &&
	refused "$CT" decrypt -i id1.txt <cut.age &&
	echo "crypt-tool: age: truncated: the file ends after chunk 2, without its final chunk" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id1.txt -o /dev/null cut.age 2>/dev/null
'

test_expect_success 'truncated by one byte: refused' '
	head -c $(($(wc -c <big.age) - 1)) big.age >cut1.age &&
	refused "$CT" decrypt -i id1.txt <cut1.age &&
	echo "crypt-tool: age: chunk 3: authentication failed: the file is damaged, truncated or altered" >expect &&
	test_cmp expect err
'

test_expect_success 'two chunks swapped: refused' '
	p=$(cat payload-offset) &&
	{ head -c $p big.age; tail -c +$((p + 65552 + 1)) big.age | head -c 65552;
	  tail -c +$((p + 1)) big.age | head -c 65552; tail -c +$((p + 2 * 65552 + 1)) big.age; } >swap.age &&
	test $(wc -c <swap.age) = $(wc -c <big.age) &&
	refused "$CT" decrypt -i id1.txt <swap.age &&
	echo "crypt-tool: age: chunk 1: authentication failed: the file is damaged, truncated or altered" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id1.txt -o /dev/null swap.age 2>/dev/null
'

test_expect_success 'a flipped bit in the last chunk: refused' '
	cp big.age flip.age && test_flip_byte flip.age $(($(wc -c <big.age) - 100)) &&
	refused "$CT" decrypt -i id1.txt <flip.age &&
	echo "crypt-tool: age: chunk 3: authentication failed: the file is damaged, truncated or altered" >expect &&
	test_cmp expect err
'

test_expect_success 'a flipped bit in the header MAC: refused' '
	cp big.age mac.age && flip_b64 mac.age $(($(cat payload-offset) - 16 - 10)) &&
	refused "$CT" decrypt -i id1.txt <mac.age &&
	echo "crypt-tool: age header: bad MAC: the header was altered" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id1.txt -o /dev/null mac.age 2>/dev/null
'

test_expect_success 'a flipped bit in the payload nonce: refused' '
	cp big.age nonce.age && test_flip_byte nonce.age $(($(cat payload-offset) - 3)) &&
	refused "$CT" decrypt -i id1.txt <nonce.age &&
	echo "crypt-tool: age: chunk 1: authentication failed: the file is damaged, truncated or altered" >expect &&
	test_cmp expect err
'

test_expect_success 'data appended after the final chunk: refused' '
	{ cat big.age; echo; } >extra.age &&
	refused "$CT" decrypt -i id1.txt <extra.age
'

test_expect_success 'an armored file (age -a) is refused by name' '
	age -a -r "$(age-keygen -y id1.txt)" -o armored.age data-1 &&
	refused "$CT" decrypt -i id1.txt <armored.age &&
	echo "crypt-tool: age: armored (PEM) age files are not supported" >expect &&
	test_cmp expect err
'

test_expect_success 'a plain file is not an age file' '
	refused "$CT" decrypt -i id1.txt <data-65537 &&
	echo "crypt-tool: age: not an age file" >expect &&
	test_cmp expect err
'

test_done
