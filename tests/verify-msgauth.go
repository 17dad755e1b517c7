// verify-msgauth DNSDIR WIREFILE: check every DKIM-Signature of a wire
// (CRLF) message with go-msgauth, the verifier that knows Ed25519
// (RFC 8463) besides RSA.  TXT records come from DNSDIR/NAME, one file
// a record, so no DNS is needed.  Exit 0 only if there is at least one
// signature and every one passes.
//
// verify-msgauth -batch DNSDIR: the same for each "K WIREFILE" line on
// stdin, in one process, judging only the first K signatures (those a
// signer put in front; 0: all of them); one line a file, "WIREFILE pass"
// or "WIREFILE fail: WHY", and exit 0 when every file passes.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// verify: "" when the file has signatures and every one passes, else why not.
func verify(dir, wire string, first int) (string, []string) {
	f, err := os.Open(wire)
	if err != nil {
		return err.Error(), nil
	}
	defer f.Close()
	lookup := func(name string) ([]string, error) {
		b, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(name, ".")))
		if err != nil {
			return nil, err
		}
		return []string{strings.TrimRight(string(b), "\n")}, nil
	}
	vs, err := dkim.VerifyWithOptions(bufio.NewReader(f),
		&dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: first})
	if err != nil && !(first > 0 && err == dkim.ErrTooManySignatures) {
		return err.Error(), nil
	}
	if len(vs) == 0 {
		return "no signature", nil
	}
	var lines, bad []string
	for _, v := range vs {
		if v.Err != nil {
			s := fmt.Sprintf("d=%s: %v", v.Domain, v.Err)
			bad = append(bad, s)
			lines = append(lines, "fail "+s)
		} else {
			lines = append(lines, "pass d="+v.Domain)
		}
	}
	return strings.Join(bad, "; "), lines
}

func batch(dir string) {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	bad := 0
	for in.Scan() {
		k, wire, _ := strings.Cut(in.Text(), " ")
		first, err := strconv.Atoi(k)
		if err != nil {
			fmt.Fprintln(os.Stderr, "verify-msgauth: want K WIREFILE, got", in.Text())
			os.Exit(2)
		}
		if why, _ := verify(dir, wire, first); why != "" {
			bad++
			fmt.Fprintf(out, "%s fail: %s\n", wire, why)
		} else {
			fmt.Fprintf(out, "%s pass\n", wire)
		}
	}
	out.Flush()
	if bad > 0 {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-batch" {
		batch(os.Args[2])
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: verify-msgauth DNSDIR WIREFILE | -batch DNSDIR")
		os.Exit(2)
	}
	why, lines := verify(os.Args[1], os.Args[2], 0)
	if lines == nil {
		fmt.Println("fail:", why)
		os.Exit(1)
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	if why != "" {
		os.Exit(1)
	}
}
