/* SPDX-License-Identifier: MIT */
/*
 * pci.h - the virtio-pci transport (virtio 1.2 section 4.1, modern
 * devices only) for a virtio-crypto PCI function driven from user space
 * through sysfs and uio_pci_generic.  Meant for a VM that owns its
 * device, e.g. QEMU's virtio-crypto-pci (docs/INTEROP-QEMU.md): there is
 * no IOMMU, so the device is handed guest-physical addresses taken from
 * /proc/self/pagemap (root only) of pinned, physically contiguous memory.
 */
#ifndef ATX_VIRTIO_PCI_H
#define ATX_VIRTIO_PCI_H

#include <stddef.h>

#include "virtio_crypto/transport.h"

/*
 * atx__virtio_pci_open - take the virtio-crypto PCI function @bdf
 * ("0000:00:03.0"; NULL, "" or "auto" = the first 1af4:1054 function),
 * unbinding it from the kernel's virtio-pci and binding it to
 * uio_pci_generic when that driver is available.  Resets the device.
 * 0 or -errno: ENODEV no such function, EACCES not root, ENOTSUP not a
 * modern (VERSION_1) device.
 */
int atx__virtio_pci_open(const char *bdf, struct vc_transport **out);

/*
 * atx__virtio_pci_arena_init - the arena for a device on @t: pinned
 * hugepage memory whose guest-physical address is virtual + gpa_off
 * (one 2 MiB page, or several when they happen to be physically
 * contiguous; @size is a wish, a->size says what was had).  The
 * transport hook "arena_init" in transport.h terms; 0 or -errno
 * (ENOMEM: no free hugepages - boot the guest with hugepages=N).
 */
int atx__virtio_pci_arena_init(struct vc_transport *t, struct vc_arena *a, size_t size);

#endif /* ATX_VIRTIO_PCI_H */
