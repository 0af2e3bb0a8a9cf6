package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A file of the project over 500 lines says at its top why it is not split (issue 14: one idea
// a file); a generated file is left out.
func TestALongFileSaysWhyAtItsTop(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files", "*.go", "*.js").Output()
	if err != nil {
		t.Fatalf("listing the files of the work tree with git: %v", err)
	}
	for _, name := range strings.Fields(string(out)) {
		f, err := os.Open("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var lines int
		var top strings.Builder
		for sc.Scan() {
			if lines < 5 {
				top.WriteString(sc.Text() + "\n")
			}
			lines++
		}
		f.Close()
		generated := strings.HasPrefix(top.String(), "// Code generated ") && strings.Contains(top.String(), "DO NOT EDIT.")
		if lines > 500 && !generated && !strings.Contains(top.String(), "// Over 500 lines for a reason: ") {
			t.Errorf("%s has %d lines and says at its top no reason for them (// Over 500 lines for a reason: …)", name, lines)
		}
	}
}
