/* SPDX-License-Identifier: MIT */
/*
 * arena.c - the shareable memory block behind a virtio-crypto device:
 * a memfd (so the fd can be handed to a vhost-user backend, which maps
 * it) mapped MAP_SHARED.  Allocation is a bump pointer: everything is
 * carved out once at attach time (rings, per-slot headers and bounce
 * areas), so nothing is ever freed individually.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtio_crypto/transport.h"

int atx__arena_init(struct vc_arena *a, size_t size)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	size = (size + 4095) & ~(size_t)4095;
	if (!size)
		return -EINVAL;
	a->fd = memfd_create("atx-virtio-arena", MFD_CLOEXEC);
	if (a->fd < 0)
		return -errno;
	if (ftruncate(a->fd, (off_t)size) < 0) {
		err = -errno;
		goto err_close_fd;
	}
	a->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (a->base == MAP_FAILED) {
		err = -errno;
		goto err_close_fd;
	}
	a->size = size;
	/*
	 * vhost-user: descriptors carry guest-physical addresses that the
	 * backend translates through the region table.  Registering the
	 * region with guest_phys_addr == our virtual address makes the
	 * translation the identity, for our backend and DPDK's alike.
	 */
	a->gpa_off = 0;
	return 0;

err_close_fd:
	close(a->fd);
	a->fd = -1;
	a->base = NULL;
	return err;
}

void atx__arena_fini(struct vc_arena *a)
{
	if (a->base)
		munmap(a->base, a->size);
	if (a->fd >= 0)
		close(a->fd);
	a->base = NULL;
	a->fd = -1;
}

void *atx__arena_alloc(struct vc_arena *a, size_t len, size_t align)
{
	size_t off = (a->used + align - 1) & ~(align - 1);

	if (off > a->size || len > a->size - off)
		return NULL;
	a->used = off + len;
	/* fresh memfd pages are zero; nothing was allocated here before */
	return (char *)a->base + off;
}
