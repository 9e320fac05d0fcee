package contents

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"syscall"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// fsError turns an error of the file system into an *httpapi.Error whose
// message names the operation, the API path and the cause in the words of
// the operating system ("saving 'a.ipynb': no space left on device"), and
// never the operating system path of the root.
func fsError(op, apiPath string, err error) error {
	var apiErr *httpapi.Error
	if errors.As(err, &apiErr) {
		return err
	}
	subject := quote(apiPath)
	if isEscape(err) {
		return httpapi.Wrap(http.StatusNotFound, err, subject+" is outside root contents directory")
	}
	if errors.Is(err, errNotRegular) {
		return httpapi.Wrap(http.StatusBadRequest, err, op+" "+subject+": not a regular file")
	}
	if errors.Is(err, fs.ErrNotExist) {
		return httpapi.Wrap(http.StatusNotFound, err,
			fmt.Sprintf("file or directory %s does not exist", subject))
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return httpapi.Wrap(http.StatusInternalServerError, err, op+" "+subject+": internal error")
	}
	message := op + " " + subject + ": " + errno.Error()
	return httpapi.Wrap(errnoStatus(errno), err, message)
}

// errnoStatus returns the HTTP status for a system error.
func errnoStatus(errno syscall.Errno) int {
	switch errno {
	case syscall.ENOSPC, syscall.EDQUOT:
		return http.StatusInsufficientStorage
	case syscall.EACCES, syscall.EPERM, syscall.EROFS:
		return http.StatusForbidden
	case syscall.EEXIST, syscall.ENOTEMPTY:
		return http.StatusConflict
	case syscall.ENAMETOOLONG, syscall.ENOTDIR, syscall.EISDIR, syscall.ELOOP,
		syscall.EXDEV, syscall.EINVAL:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// notFound is the 404 that jupyter_server sends for a missing or hidden
// path.
func notFound(apiPath string) error {
	return httpapi.Errorf(http.StatusNotFound, "file or directory %s does not exist", quote(apiPath))
}
