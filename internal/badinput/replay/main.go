// Command replay sends the bad-input corpus (examples/badinput/corpus.jsonl) to a running
// `vetted serve` and checks every answer: no 5xx, a status the case accepts, the text it
// must name, a bounded size (problem documents under 16 KiB); with -pid, the server's peak
// RSS growth over the whole run. It prints one "ok:" line per passed check and exits 1 on
// any failure.
//
// Tokens: $BADINPUT_PUBLISHER (io.github.acme/*), $BADINPUT_OTHER (io.github.other/*),
// $BADINPUT_REVIEWER, $BADINPUT_ADMIN; forged ones are signed with -issuer-key (the
// registry's embedded issuer key) from the reviewer token's claims.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/internal/badinput"
)

func main() {
	base := flag.String("url", "", "base URL of the registry (http://host:port)")
	corpus := flag.String("corpus", "examples/badinput/corpus.jsonl", "the corpus")
	pid := flag.Int("pid", 0, "the server's process id (peak RSS is measured when set)")
	keyPath := flag.String("issuer-key", "", "PEM key of the registry's embedded issuer (forged tokens)")
	maxRSS := flag.Int("max-rss-growth-mib", 64, "largest peak RSS growth accepted")
	maxProblem := flag.Int("max-problem-bytes", 16<<10, "largest problem document accepted")
	maxAnswer := flag.Int("max-answer-bytes", 256<<10, "largest answer of any kind accepted")
	flag.Parse()
	if err := run(*base, *corpus, *pid, *keyPath, *maxRSS, *maxProblem, *maxAnswer); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
}

func run(base, corpusPath string, pid int, keyPath string, maxRSS, maxProblem, maxAnswer int) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || u.Scheme != "http" {
		return fmt.Errorf("-url %q: want http://host:port", base)
	}
	f, err := os.Open(corpusPath)
	if err != nil {
		return err
	}
	cases, err := badinput.Read(f)
	f.Close()
	if err != nil {
		return err
	}
	tokens := map[string]string{
		"publisher": os.Getenv("BADINPUT_PUBLISHER"), "other": os.Getenv("BADINPUT_OTHER"),
		"reviewer": os.Getenv("BADINPUT_REVIEWER"), "admin": os.Getenv("BADINPUT_ADMIN"),
	}
	var baseRSS int64
	if pid > 0 {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			return fmt.Errorf("reset the server's RSS high-water mark: %w", err)
		}
		if baseRSS, err = procStatus(pid, "VmRSS"); err != nil {
			return err
		}
	}
	var failures []string
	byStatus := map[int]int{}
	replayed, skipped, largestProblem, findings := 0, 0, 0, 0
	for _, c := range cases {
		if c.Skip != "" {
			skipped++
			fmt.Printf("skip: %s: %s\n", c.Name, c.Skip)
			continue
		}
		auth := ""
		switch {
		case strings.HasPrefix(c.Token, "forged:"):
			if keyPath == "" || tokens["reviewer"] == "" {
				return fmt.Errorf("%s: forged tokens need -issuer-key and $BADINPUT_REVIEWER", c.Name)
			}
			t, err := badinput.Forge(tokens["reviewer"], keyPath, strings.TrimPrefix(c.Token, "forged:"))
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			auth = "Bearer " + t
		case c.Token != "":
			t := tokens[c.Token]
			if t == "" {
				return fmt.Errorf("%s: no token for %q ($BADINPUT_%s)", c.Name, c.Token, strings.ToUpper(c.Token))
			}
			auth = "Bearer " + t
		}
		body, err := c.BodyBytes()
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		status, ctype, answer, err := send(u.Host, c, auth, body, maxAnswer)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Name, err))
			continue
		}
		replayed++
		byStatus[status]++
		if c.Finding != "" {
			findings++
		}
		var why []string
		if status >= 500 {
			why = append(why, fmt.Sprintf("answered %d", status))
		}
		if !contains(c.Status, status) {
			why = append(why, fmt.Sprintf("status %d, want one of %v", status, c.Status))
		}
		if len(answer) > maxAnswer {
			why = append(why, fmt.Sprintf("answer larger than %d bytes", maxAnswer))
		}
		if strings.HasPrefix(ctype, "application/problem+json") {
			largestProblem = max(largestProblem, len(answer))
			if len(answer) > maxProblem {
				why = append(why, fmt.Sprintf("problem document of %d bytes", len(answer)))
			}
		}
		if c.Want != "" && !bytes.Contains(answer, []byte(c.Want)) {
			why = append(why, fmt.Sprintf("answer does not name %q", c.Want))
		}
		if len(why) > 0 {
			failures = append(failures, fmt.Sprintf("%s (%s %.80s): %s; answer: %.300s", c.Name, c.Method, c.Target, strings.Join(why, "; "), answer))
		}
	}
	for _, f := range failures {
		fmt.Println("FAIL:", f)
	}
	var st []string
	for s, n := range byStatus {
		st = append(st, fmt.Sprintf("%d×%d", n, s))
	}
	sort.Strings(st)
	fmt.Printf("replayed %d cases (%d findings of issue 17), skipped %d; statuses: %s\n", replayed, findings, skipped, strings.Join(st, " "))
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d cases failed", len(failures), len(cases))
	}
	fmt.Printf("ok: %d bad requests answered without a 5xx, each with a status its case accepts\n", replayed)
	fmt.Printf("ok: every answer under %d bytes; the largest problem document %d bytes (limit %d)\n", maxAnswer, largestProblem, maxProblem)
	if pid > 0 {
		hwm, err := procStatus(pid, "VmHWM")
		if err != nil {
			return err
		}
		growth := hwm - baseRSS
		if growth > int64(maxRSS)<<20 {
			return fmt.Errorf("the server's peak RSS grew by %.1f MiB (limit %d MiB)", float64(growth)/(1<<20), maxRSS)
		}
		fmt.Printf("ok: the server's peak RSS grew by %.1f MiB over the run (limit %d MiB; %.1f MiB before)\n",
			float64(growth)/(1<<20), maxRSS, float64(baseRSS)/(1<<20))
	}
	return nil
}

// send writes the request byte for byte (the target is not normalized) and reads the answer.
func send(host string, c badinput.Case, auth string, body []byte, maxAnswer int) (int, string, []byte, error) {
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return 0, "", nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: vetted-badinput\r\n", c.Method, c.Target, host)
	keys := make([]string, 0, len(c.Header))
	for k := range c.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, c.Header[k])
	}
	if auth != "" && c.Header["Authorization"] == "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	if len(body) > 0 || c.Method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %s\r\n", strconv.Itoa(len(body)))
	}
	b.WriteString("\r\n")
	b.Write(body)
	// The server may answer (413, 401) before reading the whole body: a write error then
	// is not a failure, the answer is what counts.
	_, werr := conn.Write(b.Bytes())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if werr != nil {
			return 0, "", nil, fmt.Errorf("write: %v; read: %v", werr, err)
		}
		return 0, "", nil, fmt.Errorf("read the answer: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, int64(maxAnswer)+1))
	if err != nil {
		return 0, "", nil, fmt.Errorf("read the answer body: %w", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), answer, nil
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n << 10, err
		}
	}
	return 0, fmt.Errorf("no %s for process %d", field, pid)
}
