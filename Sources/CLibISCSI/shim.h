// The libiscsi headers as one Clang module: the context API and the SCSI task
// structures whose fields (status, sense, residual) the engine reads directly.
#ifndef VDISK_CLIBISCSI_SHIM_H
#define VDISK_CLIBISCSI_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <time.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#endif
