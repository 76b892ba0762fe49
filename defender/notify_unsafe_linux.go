//go:build linux

package defender

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// notifIoctl is a seccomp listener ioctl whose argument is a struct.
func notifIoctl[T any](fd int, req uint, arg *T) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(arg)))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// notifValid reports whether notification id is still pending: its caller is alive and
// still blocked in it.
func notifValid(fd int, id uint64) bool {
	return notifIoctl(fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == nil
}

// notifRespond answers notification id: with errno, or, when cont is set, by letting the
// call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
func notifRespond(fd int, id uint64, errno unix.Errno, cont bool) error {
	resp := seccompNotifResp{id: id}
	if cont {
		resp.flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	} else {
		resp.error = -int32(errno)
	}
	return notifIoctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, &resp)
}

var (
	_ [80 - unsafe.Sizeof(seccompNotif{})]struct{}
	_ [unsafe.Sizeof(seccompNotif{}) - 80]struct{}
	_ [24 - unsafe.Sizeof(seccompNotifResp{})]struct{}
	_ [unsafe.Sizeof(seccompNotifResp{}) - 24]struct{}
)
