// Package lines reads and writes the files of one request or answer a line
// that the commands under scripts/ pass to each other.
package lines

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// Read returns the non-empty lines of the file at path, without their
// spaces at either end; a file without any is an error.
func Read(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no lines", path)
	}
	return out, nil
}

// Write writes each of ls as one line of the file at path; a line that
// holds a line break is an error.
func Write(path string, ls [][]byte) error {
	var buf bytes.Buffer
	for _, l := range ls {
		if bytes.ContainsAny(l, "\r\n") {
			return fmt.Errorf("write %s: a line holds a line break", path)
		}
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
