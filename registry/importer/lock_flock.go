//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package importer

import (
	"errors"
	"os"
	"syscall"
)

// canLock says whether job directories can be locked here; without it
// the start-up sweep can only go by age.
const canLock = true

// lockDir takes an exclusive lock on the directory dir and keeps it while
// the returned file is open; the lock ends with the process, however it
// ends, which is what lets a later process tell a dead job's directory
// from a running one.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lockedByOther reports whether some process holds dir's lock.
func lockedByOther(dir string) bool {
	f, err := lockDir(dir)
	if err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	f.Close()
	return false
}
