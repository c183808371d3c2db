/* SPDX-License-Identifier: MIT */
/*
 * ioctl_decode.h: the Windows IOCTL encoding of the virgo uAPI, without any
 * Windows header, so that the kernel driver, the user-mode transport and
 * the Linux unit tests share one implementation.
 *
 * A request is IRP_MJ_DEVICE_CONTROL with an IoControlCode built by
 * VIRGO_CTL_CODE(op) (include/virgo/uapi.h): device type FILE_DEVICE_UNKNOWN,
 * METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS. The input and the
 * output buffer are both exactly virgo_op_arg_size(op) bytes: the struct
 * goes in and comes back with its out fields.
 *
 * Results. The driver completes the IRP with the NTSTATUS below; on
 * success the struct is copied back (IoStatus.Information = its size), on
 * failure nothing is (every failure status is an error-severity NTSTATUS, so
 * the I/O manager copies nothing back). A caller of DeviceIoControl sees
 * FALSE and GetLastError() = the Win32 code of the third column (what
 * RtlNtStatusToDosError gives; Wine's table agrees, see tests/win); a caller
 * of NtDeviceIoControlFile sees the NTSTATUS itself. Both map back to the
 * virgo_status one to one:
 *
 *   virgo_status        NTSTATUS                                  Win32
 *   VIRGO_OK            STATUS_SUCCESS                 0x00000000    0
 *   VIRGO_EPERM         STATUS_ACCESS_DENIED           0xC0000022    5 ERROR_ACCESS_DENIED
 *   VIRGO_ENOENT        STATUS_NOT_FOUND               0xC0000225 1168 ERROR_NOT_FOUND
 *   VIRGO_EIO           STATUS_IO_DEVICE_ERROR         0xC0000185 1117 ERROR_IO_DEVICE
 *   VIRGO_E2BIG         STATUS_INVALID_BUFFER_SIZE     0xC0000206 1784 ERROR_INVALID_USER_BUFFER
 *   VIRGO_ENOMEM        STATUS_INSUFFICIENT_RESOURCES  0xC000009A 1450 ERROR_NO_SYSTEM_RESOURCES
 *   VIRGO_EFAULT        STATUS_ACCESS_VIOLATION        0xC0000005  998 ERROR_NOACCESS
 *   VIRGO_EBUSY         STATUS_RETRY                   0xC000022D 1237 ERROR_RETRY
 *   VIRGO_EEXIST        STATUS_OBJECT_NAME_COLLISION   0xC0000035  183 ERROR_ALREADY_EXISTS
 *   VIRGO_ENODEV        STATUS_DEVICE_DOES_NOT_EXIST   0xC00000C0   55 ERROR_DEV_NOT_EXIST
 *   VIRGO_EINVAL        STATUS_INVALID_PARAMETER       0xC000000D   87 ERROR_INVALID_PARAMETER
 *   VIRGO_ENOSPC        STATUS_QUOTA_EXCEEDED          0xC0000044 1816 ERROR_NOT_ENOUGH_QUOTA
 *   VIRGO_EPROTO        STATUS_DEVICE_DATA_ERROR       0xC000009C   23 ERROR_CRC
 *   VIRGO_EOVERFLOW     STATUS_INTEGER_OVERFLOW        0xC0000095  534 ERROR_ARITHMETIC_OVERFLOW
 *   VIRGO_ENOTSUP       STATUS_NOT_SUPPORTED           0xC00000BB   50 ERROR_NOT_SUPPORTED
 *   VIRGO_ETIMEDOUT     STATUS_IO_TIMEOUT              0xC00000B5  121 ERROR_SEM_TIMEOUT
 *   VIRGO_EDQUOT        STATUS_WORKING_SET_QUOTA       0xC00000A1 1453 ERROR_WORKING_SET_QUOTA
 *   VIRGO_ECANCELED     STATUS_CANCELLED               0xC0000120  995 ERROR_OPERATION_ABORTED
 *   VIRGO_EDEVLOST      STATUS_DEVICE_REMOVED          0xC00002B6 1617 ERROR_DEVICE_REMOVED
 *
 * Codes the driver produces outside the core:
 *   an IoControlCode that is not a virgo code   STATUS_INVALID_DEVICE_REQUEST 0xC0000010 1 ERROR_INVALID_FUNCTION
 *   a virgo code with an unknown op             -> VIRGO_ENOTSUP
 *   a buffer length other than the op's size    -> VIRGO_EINVAL
 *   a request from another process than the one that opened the handle,
 *   or from kernel mode                         -> VIRGO_EPERM
 *   no device (stopped, removed, powered down)  -> VIRGO_EDEVLOST
 * Any other negative value (a core bug) becomes STATUS_UNSUCCESSFUL
 * (0xC0000001, Win32 31 ERROR_GEN_FAILURE), which maps back to VIRGO_EIO.
 */
#ifndef VIRGO_IOCTL_DECODE_H
#define VIRGO_IOCTL_DECODE_H

#include <stdint.h>

#include <virgo/uapi.h>

#define VIRGO_NT_SUCCESS                0x00000000u
#define VIRGO_NT_UNSUCCESSFUL           0xC0000001u
#define VIRGO_NT_INVALID_DEVICE_REQUEST 0xC0000010u

struct virgo_ioctl {
	uint32_t op;   /* enum virgo_op */
	uint32_t size; /* virgo_op_arg_size(op) */
};

/* Decodes IoControlCode and the two buffer lengths. Returns 0 and fills
 * *out, or a negative virgo_status (-VIRGO_ENOTSUP, -VIRGO_EINVAL), or
 * VIRGO_IOCTL_FOREIGN for a code that is not a virgo code at all. */
#define VIRGO_IOCTL_FOREIGN 1
int virgo_ioctl_decode(uint32_t code, uint32_t in_len, uint32_t out_len, struct virgo_ioctl *out);

/* 0 or a negative virgo_status -> the NTSTATUS to complete the IRP with. */
uint32_t virgo_status_to_ntstatus(int status);
/* The inverse, for the user-mode side: 0, or a negative virgo_status
 * (an NTSTATUS not in the table gives -VIRGO_EIO). */
int virgo_status_from_ntstatus(uint32_t ntstatus);
/* The Win32 error DeviceIoControl reports for a negative virgo_status
 * (0 for 0), and the inverse (unknown -> -VIRGO_EIO). */
uint32_t virgo_status_to_win32(int status);
int virgo_status_from_win32(uint32_t error);

#endif
