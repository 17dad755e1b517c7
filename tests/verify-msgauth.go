// verify-msgauth DNSDIR WIREFILE: check every DKIM-Signature of a wire
// (CRLF) message with go-msgauth, the verifier that knows Ed25519
// (RFC 8463) besides RSA.  TXT records come from DNSDIR/NAME, one file
// a record, so no DNS is needed.  Exit 0 only if there is at least one
// signature and every one passes.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: verify-msgauth DNSDIR WIREFILE")
		os.Exit(2)
	}
	dir := os.Args[1]
	f, err := os.Open(os.Args[2])
	if err != nil {
		fmt.Println("fail:", err)
		os.Exit(1)
	}
	defer f.Close()
	lookup := func(name string) ([]string, error) {
		b, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(name, ".")))
		if err != nil {
			return nil, err
		}
		return []string{strings.TrimRight(string(b), "\n")}, nil
	}
	vs, err := dkim.VerifyWithOptions(bufio.NewReader(f), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		fmt.Println("fail:", err)
		os.Exit(1)
	}
	if len(vs) == 0 {
		fmt.Println("fail: no signature")
		os.Exit(1)
	}
	bad := 0
	for _, v := range vs {
		if v.Err != nil {
			bad++
			fmt.Printf("fail d=%s: %v\n", v.Domain, v.Err)
		} else {
			fmt.Printf("pass d=%s\n", v.Domain)
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
}
