/* SPDX-License-Identifier: MIT */
/*
 * pci.c - the virtio-pci transport: a modern (virtio 1.x) virtio-crypto
 * PCI function driven from user space, the way DPDK's crypto_virtio does
 * it, but with only what a VM's root user has by default:
 *
 *  - config space through sysfs ("config"): the virtio vendor
 *    capabilities say where common cfg, notify, ISR and device cfg live
 *    (BAR4 on QEMU), and we set Memory Space + Bus Master ourselves;
 *  - the BARs through sysfs "resource<N>" mmaps (works bound or not);
 *  - uio_pci_generic, when present, only for its INTx interrupt fd
 *    (keep it open: its release clears Bus Master);
 *  - DMA addresses from /proc/self/pagemap of hugepage memory that is
 *    locked (hugetlb pages never move) and physically contiguous, so
 *    the arena's single gpa_off holds for every byte of it.
 *
 * There is no IOMMU in such a guest: the device reads and writes guest
 * physical memory directly, which is why this is root-only and why the
 * arena must come from this file (atx__virtio_pci_arena_init), not from
 * a memfd whose 4 KiB pages are scattered.
 *
 * Completions.  The engine waits for each queue's call_fd in its io_uring.
 * The device's interrupt reaches user space only as uio's fd (read
 * exactly 4 bytes; uio_pci_generic masks INTx in its handler and has no
 * irqcontrol, so the driver unmasks it in the command register and reads
 * the ISR to lower the line), a protocol the engine does not speak, and
 * INTx is one line for every queue.  So a small thread turns interrupts
 * into per-queue eventfd signals: it blocks on the uio fd, reads (and so
 * clears) the ISR, signals every queue's eventfd and unmasks INTx; the
 * engine's poll reaps the used rings.  Without uio (module missing) the
 * thread polls the ISR every 100 us instead - the device sets ISR bit 0
 * whenever it would interrupt, with or without a driver for the line.
 * Either way the fast path (kick = one MMIO write) is untouched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "virtio_crypto/pci.h"
#include "virtio_crypto/virtio_crypto_proto.h"

#define SYSFS_PCI "/sys/bus/pci/devices"
#define UIO_DRV "/sys/bus/pci/drivers/uio_pci_generic"

#define PCI_VENDOR_REDHAT_QUMRANET 0x1af4
#define PCI_DEVICE_VIRTIO_CRYPTO 0x1054 /* 0x1040 + device id 20 */

/* PCI config space */
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_VNDR 0x09

/* virtio 1.2 4.1.4 */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* device status (virtio 1.2 2.1) */
#define ST_ACKNOWLEDGE 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_NEEDS_RESET 0x40
#define ST_FAILED 0x80

/* struct virtio_pci_common_cfg offsets (4.1.4.3) */
#define CC_DFSELECT 0
#define CC_DF 4
#define CC_GFSELECT 8
#define CC_GF 12
#define CC_MSIX 16
#define CC_NUMQ 18
#define CC_STATUS 20
#define CC_CFGGEN 21
#define CC_Q_SELECT 22
#define CC_Q_SIZE 24
#define CC_Q_MSIX 26
#define CC_Q_ENABLE 28
#define CC_Q_NOFF 30
#define CC_Q_DESC 32
#define CC_Q_DRIVER 40
#define CC_Q_DEVICE 48

#define VIRTIO_MSI_NO_VECTOR 0xffff

#define HUGE_SZ (2u << 20)
#define PCI_MAX_QUEUES 64

struct pci_region {
	volatile uint8_t *p;
	uint32_t len;
};

struct pci_dev {
	struct vc_transport t;
	char bdf[32];
	int cfg_fd;                     /* sysfs config */
	int uio_fd;                     /* /dev/uioN, -1 without uio */
	void *bar[6];
	size_t bar_len[6];
	struct pci_region common, notify, isr, devcfg;
	uint32_t notify_mult;
	uint16_t num_queues;
	volatile uint16_t *qnotify[PCI_MAX_QUEUES]; /* doorbell per queue, NULL = not set up */
	int efd[PCI_MAX_QUEUES];        /* call eventfd per queue, -1 = none */
	int64_t gpa_off;                /* of the arena, from map_memory */
	bool driver_ok;
	pthread_t irq_thread;
	bool thread_running;
	bool stop;                      /* close() to the irq thread (atomic) */
};

#define to_pci(tp) ((struct pci_dev *)(tp))

/* ---- MMIO: little-endian device, x86 host; volatile single accesses ---- */

static inline uint8_t rd8(const struct pci_region *r, unsigned off)
{
	return r->p[off];
}

static inline uint16_t rd16(const struct pci_region *r, unsigned off)
{
	return *(volatile uint16_t *)(r->p + off);
}

static inline uint32_t rd32(const struct pci_region *r, unsigned off)
{
	return *(volatile uint32_t *)(r->p + off);
}

static inline void wr8(const struct pci_region *r, unsigned off, uint8_t v)
{
	r->p[off] = v;
}

static inline void wr16(const struct pci_region *r, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(r->p + off) = v;
}

static inline void wr32(const struct pci_region *r, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(r->p + off) = v;
}

/* 64-bit fields as two 32-bit writes, low first: the spec allows it and QEMU takes it */
static inline void wr64(const struct pci_region *r, unsigned off, uint64_t v)
{
	wr32(r, off, (uint32_t)v);
	wr32(r, off + 4, (uint32_t)(v >> 32));
}

/* ---- sysfs helpers ---- */

static int read_hex_file(const char *path, unsigned long *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno ? -errno : -EIO;   /* never 0: the caller reads *v only then */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*v = strtoul(buf, NULL, 16);
	return 0;
}

static int write_str_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* strlcpy: names here are short; a long one is cut, never overflows */
static void copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool is_virtio_crypto(const char *bdf)
{
	char path[PATH_MAX];
	unsigned long ven, dev;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", bdf);
	if (read_hex_file(path, &ven))
		return false;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", bdf);
	if (read_hex_file(path, &dev))
		return false;
	/* 0x1054 is the modern id; a transitional device would say 0x1014 (no legacy here) */
	return ven == PCI_VENDOR_REDHAT_QUMRANET && dev == PCI_DEVICE_VIRTIO_CRYPTO;
}

static int find_device(const char *want, char *bdf, size_t len)
{
	DIR *dir;
	struct dirent *de;
	int err = -ENODEV;

	if (want && *want && strcmp(want, "auto")) {
		if (!is_virtio_crypto(want))
			return -ENODEV;
		copy_name(bdf, len, want);
		return 0;
	}
	dir = opendir(SYSFS_PCI);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !is_virtio_crypto(de->d_name))
			continue;
		copy_name(bdf, len, de->d_name);
		err = 0;
		break;
	}
	closedir(dir);
	return err;
}

/* Name of the driver bound to @bdf in @drv ("" when none). */
static void bound_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	drv[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	copy_name(drv, len, strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
}

/*
 * The kernel's virtio-pci must let go (two drivers on one device would
 * fight over the rings); uio_pci_generic is taken when it exists, for
 * its interrupt fd.  Without it the BARs still map through sysfs.
 */
static int bind_uio(const char *bdf)
{
	char drv[64], path[PATH_MAX];
	int err;

	bound_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, "uio_pci_generic"))
		return 0;
	if (drv[0]) {
		snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver/unbind", bdf);
		err = write_str_file(path, bdf);
		if (err)
			return err;
	}
	if (access(UIO_DRV, F_OK))
		return 0;   /* no uio: run unbound, ISR polled */
	/*
	 * new_id binds every matching unbound function; it fails with
	 * EEXIST when the id is known already, and then bind does it.
	 */
	(void)write_str_file(UIO_DRV "/new_id", "1af4 1054");
	bound_driver(bdf, drv, sizeof(drv));
	/* uio may refuse (no INTx masking on this function): then run unbound, ISR polled */
	if (strcmp(drv, "uio_pci_generic"))
		(void)write_str_file(UIO_DRV "/bind", bdf);
	return 0;
}

static int open_uio(const char *bdf)
{
	char path[PATH_MAX];
	DIR *dir;
	struct dirent *de;
	int fd = -1;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/uio", bdf);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "uio", 3))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		break;
	}
	closedir(dir);
	return fd;
}

static int cfg_read(struct pci_dev *p, unsigned off, void *buf, size_t len)
{
	return pread(p->cfg_fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
}

static int cfg_write(struct pci_dev *p, unsigned off, const void *buf, size_t len)
{
	return pwrite(p->cfg_fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
}

static int map_bar(struct pci_dev *p, unsigned bar)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, err = 0;

	if (p->bar[bar])
		return 0;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%u", p->bdf, bar);
	fd = open(path, O_RDWR | O_CLOEXEC | O_SYNC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !st.st_size) {
		err = -ENODEV;
		goto out_close;
	}
	p->bar[bar] = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p->bar[bar] == MAP_FAILED) {
		p->bar[bar] = NULL;
		err = -errno;
		goto out_close;
	}
	p->bar_len[bar] = (size_t)st.st_size;
out_close:
	close(fd);
	return err;
}

/* Walk the vendor capabilities; map the BARs they point into. */
static int find_caps(struct pci_dev *p)
{
	uint16_t status;
	uint8_t pos;
	unsigned guard = 0;
	int err;

	if (cfg_read(p, PCI_STATUS, &status, 2) || !(status & PCI_STATUS_CAP_LIST))
		return -ENOTSUP;
	if (cfg_read(p, PCI_CAPABILITY_LIST, &pos, 1))
		return -EIO;
	while (pos && guard++ < 48) {
		/* struct virtio_pci_cap: vndr next len type bar id pad[2] offset length */
		uint8_t c[16];
		uint32_t off, len;
		struct pci_region *r = NULL;

		pos &= 0xfc;
		if (cfg_read(p, pos, c, sizeof(c)))
			return -EIO;
		if (c[0] != PCI_CAP_ID_VNDR || c[4] > 5)
			goto next;
		switch (c[3]) {
		case VIRTIO_PCI_CAP_COMMON_CFG: r = &p->common; break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG: r = &p->notify; break;
		case VIRTIO_PCI_CAP_ISR_CFG: r = &p->isr; break;
		case VIRTIO_PCI_CAP_DEVICE_CFG: r = &p->devcfg; break;
		default: goto next;
		}
		if (r->p)
			goto next;  /* the first of each type is the preferred one */
		memcpy(&off, c + 8, 4);
		memcpy(&len, c + 12, 4);
		err = map_bar(p, c[4]);
		if (err)
			return err;
		if ((uint64_t)off + len > p->bar_len[c[4]])
			return -EINVAL;
		r->p = (volatile uint8_t *)p->bar[c[4]] + off;
		r->len = len;
		if (c[3] == VIRTIO_PCI_CAP_NOTIFY_CFG &&
		    cfg_read(p, pos + 16u, &p->notify_mult, 4))
			return -EIO;
next:
		pos = c[1];
	}
	/* modern devices have all four; a legacy-only device has none */
	return p->common.p && p->notify.p && p->isr.p ? 0 : -ENOTSUP;
}

static int reset_device(struct pci_dev *p)
{
	wr8(&p->common, CC_STATUS, 0);
	/* 4.1.4.3.2: reset completes when status reads back 0 */
	for (int i = 0; i < 100000; i++) {
		if (!rd8(&p->common, CC_STATUS))
			return 0;
		usleep(10);
	}
	return -ETIMEDOUT;
}

static void set_status(struct pci_dev *p, uint8_t bits)
{
	wr8(&p->common, CC_STATUS, rd8(&p->common, CC_STATUS) | bits);
}

/* ---- interrupts -> eventfds (see the top of the file) ---- */

static void signal_queues(struct pci_dev *p)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < PCI_MAX_QUEUES; i++) {
		/* queues are set up while the thread already runs for the first ones */
		int fd = __atomic_load_n(&p->efd[i], __ATOMIC_ACQUIRE);

		if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
			/* counter saturated: a wake-up is pending anyway */
		}
	}
}

/*
 * Unmask INTx after uio's handler masked it.  uio_pci_generic has no
 * irqcontrol (a write to /dev/uioN fails with ENOSYS): like DPDK we
 * clear Interrupt Disable in the command register ourselves, keeping
 * Bus Master - QEMU drops DRIVER_OK on any command write without it.
 */
static int intx_unmask(struct pci_dev *p)
{
	uint16_t cmd;

	if (cfg_read(p, PCI_COMMAND, &cmd, 2))
		return -EIO;
	if (!(cmd & PCI_COMMAND_INTX_DISABLE))
		return 0;
	cmd &= (uint16_t)~PCI_COMMAND_INTX_DISABLE;
	return cfg_write(p, PCI_COMMAND, &cmd, 2);
}

static void *irq_thread(void *arg)
{
	struct pci_dev *p = arg;
	bool use_uio = p->uio_fd >= 0;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		if (use_uio) {
			struct pollfd pf = { p->uio_fd, POLLIN, 0 };
			uint32_t count;

			/* bounded wait so close() is noticed */
			if (poll(&pf, 1, 50) <= 0)
				continue;
			if (read(p->uio_fd, &count, sizeof(count)) != sizeof(count))
				continue;
			/* reading the ISR lowers the line; then unmask INTx (uio masked it) */
			(void)rd8(&p->isr, 0);
			signal_queues(p);
			/*
			 * Cannot unmask: poll the ISR instead.  The uio fd stays
			 * open - closing it makes uio_pci_generic clear Bus
			 * Master, which stops the device.
			 */
			if (intx_unmask(p))
				use_uio = false;
		} else {
			struct timespec ts = { 0, 100000 };

			if (rd8(&p->isr, 0) & 1)
				signal_queues(p);
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ---- transport ops ---- */

static int pci_negotiate(struct vc_transport *t, uint64_t want, uint64_t *got)
{
	struct pci_dev *p = to_pci(t);
	uint64_t dev;

	wr32(&p->common, CC_DFSELECT, 0);
	dev = rd32(&p->common, CC_DF);
	wr32(&p->common, CC_DFSELECT, 1);
	dev |= (uint64_t)rd32(&p->common, CC_DF) << 32;
	/* a modern-only transport: without VERSION_1 the layout is legacy */
	if (!(dev & (1ull << VIRTIO_F_VERSION_1))) {
		set_status(p, ST_FAILED);
		return -ENOTSUP;
	}
	*got = (want | (1ull << VIRTIO_F_VERSION_1)) & dev;
	wr32(&p->common, CC_GFSELECT, 0);
	wr32(&p->common, CC_GF, (uint32_t)*got);
	wr32(&p->common, CC_GFSELECT, 1);
	wr32(&p->common, CC_GF, (uint32_t)(*got >> 32));
	set_status(p, ST_FEATURES_OK);
	if (!(rd8(&p->common, CC_STATUS) & ST_FEATURES_OK)) {
		set_status(p, ST_FAILED);
		return -ENOTSUP;
	}
	return 0;
}

static bool phys_of(int pm_fd, const void *va, uint64_t *pa)
{
	uint64_t e;
	uintptr_t v = (uintptr_t)va;

	if (pread(pm_fd, &e, sizeof(e), (off_t)(v / 4096 * 8)) != sizeof(e))
		return false;
	/* bit 63 present; PFN in bits 0-54 (reads as 0 without CAP_SYS_ADMIN) */
	if (!(e >> 63) || !(e & ((1ull << 55) - 1)))
		return false;
	*pa = (e & ((1ull << 55) - 1)) * 4096 + (v & 4095);
	return true;
}

/*
 * Is [base, base+len) physically contiguous, in virtual order?  Checked
 * per 4 KiB so the answer holds whatever the page size.
 */
static int check_contig(const void *base, size_t len, int64_t *gpa_off)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t pa0, pa;
	int err = 0;

	if (fd < 0)
		return -errno;
	if (!phys_of(fd, base, &pa0)) {
		err = -EACCES;
		goto out_close;
	}
	for (size_t off = 4096; off < len; off += 4096) {
		if (!phys_of(fd, (const char *)base + off, &pa)) {
			err = -EACCES;
			goto out_close;
		}
		if (pa != pa0 + off) {
			err = -EFAULT;
			goto out_close;
		}
	}
	*gpa_off = (int64_t)pa0 - (int64_t)(uintptr_t)base;
out_close:
	close(fd);
	return err;
}

/*
 * The longest run of hugepages of @m (@n of them) that are physically
 * consecutive in virtual order: *@first and its length.
 */
static size_t best_run(int pm_fd, void *m, size_t n, size_t *first)
{
	size_t best = 0, run = 0, start = 0;
	uint64_t prev = 0, pa;

	*first = 0;
	for (size_t i = 0; i < n; i++) {
		if (!phys_of(pm_fd, (char *)m + i * HUGE_SZ, &pa))
			return 0;
		if (i && run && pa == prev + HUGE_SZ) {
			run++;
		} else {
			run = 1;
			start = i;
		}
		if (run > best) {
			best = run;
			*first = start;
		}
		prev = pa;
	}
	return best;
}

int atx__virtio_pci_arena_init(struct vc_transport *t, struct vc_arena *a, size_t size)
{
	size_t n = (size + HUGE_SZ - 1) / HUGE_SZ;
	int pm_fd, err = -ENOMEM;

	(void)t;
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (n > 8)
		n = 8;  /* the test guest boots with hugepages=8 */
	if (!n)
		n = 1;
	pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0)
		return -errno;
	/*
	 * Several hugepages are physically consecutive only by luck; one
	 * always is.  Map n, keep the longest consecutive run and give the
	 * rest back.  A second try can do better: hugetlb's free list is
	 * LIFO, so pages freed in one order come back in the other.
	 * hugetlb pages are never migrated or swapped; MAP_LOCKED says so
	 * explicitly and MAP_POPULATE makes pagemap answer at once.
	 */
	for (unsigned attempt = 0; n && attempt < 3; attempt++) {
		size_t len = n * HUGE_SZ, first, run;
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED,
			       -1, 0);

		if (m == MAP_FAILED) {
			/* not that many free hugepages: EINVAL on some kernels, ENOMEM on others */
			err = errno == EINVAL || errno == ENOMEM ? -ENOMEM : -errno;
			n /= 2;
			attempt = 0;
			continue;
		}
		run = best_run(pm_fd, m, n, &first);
		if (!run) {
			munmap(m, len);
			err = -EACCES;  /* pagemap hides PFNs: not root */
			break;
		}
		if (run < n && attempt < 2) {
			munmap(m, len);
			continue;
		}
		/* keep [first, first + run), return the rest to the pool */
		if (first)
			munmap(m, first * HUGE_SZ);
		if (first + run < n)
			munmap((char *)m + (first + run) * HUGE_SZ, (n - first - run) * HUGE_SZ);
		m = (char *)m + first * HUGE_SZ;
		close(pm_fd);
		err = check_contig(m, run * HUGE_SZ, &a->gpa_off);
		if (err) {
			munmap(m, run * HUGE_SZ);
			return err;
		}
		a->base = m;
		a->size = run * HUGE_SZ;
		return 0;   /* fresh hugetlb pages are zero */
	}
	close(pm_fd);
	return err;
}

static int pci_map_memory(struct vc_transport *t, struct vc_arena *a)
{
	int64_t off;
	int err;

	/*
	 * The device gets physical addresses, so the arena must be ours
	 * (hugepages, gpa_off = physical - virtual).  A memfd arena from
	 * atx__arena_init is scattered 4 KiB pages: refuse it rather than
	 * let the device scribble over random memory.
	 */
	err = check_contig(a->base, a->size, &off);
	if (err)
		return err;
	if (off != a->gpa_off)
		return -EFAULT;
	to_pci(t)->gpa_off = off;
	return 0;
}

static int pci_config_read(struct vc_transport *t, unsigned off, void *buf, unsigned len)
{
	struct pci_dev *p = to_pci(t);
	uint8_t *b = buf;
	uint8_t gen;

	if (!p->devcfg.p)
		return -EOPNOTSUPP;
	if (off > p->devcfg.len || len > p->devcfg.len - off)
		return -EINVAL;
	/* 4.1.4.3.1: read until config_generation is stable around the copy */
	do {
		gen = rd8(&p->common, CC_CFGGEN);
		for (unsigned i = 0; i < len;) {
			unsigned o = off + i;

			if (!(o & 3) && len - i >= 4) {
				uint32_t v = rd32(&p->devcfg, o);
				memcpy(b + i, &v, 4);
				i += 4;
			} else {
				b[i] = rd8(&p->devcfg, o);
				i++;
			}
		}
	} while (gen != rd8(&p->common, CC_CFGGEN));
	return 0;
}

static int pci_setup_vring(struct vc_transport *t, const struct vc_vring_cfg *c)
{
	struct pci_dev *p = to_pci(t);
	uint16_t max, noff;

	if (c->index >= p->num_queues || c->index >= PCI_MAX_QUEUES)
		return -EINVAL;
	wr16(&p->common, CC_Q_SELECT, (uint16_t)c->index);
	max = rd16(&p->common, CC_Q_SIZE);
	if (!max || c->num > max)
		return -EINVAL;
	wr16(&p->common, CC_Q_SIZE, (uint16_t)c->num);
	/* no MSI-X (uio does not enable it): INTx + ISR */
	wr16(&p->common, CC_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	wr64(&p->common, CC_Q_DESC, (uint64_t)((int64_t)(uintptr_t)c->desc + p->gpa_off));
	wr64(&p->common, CC_Q_DRIVER, (uint64_t)((int64_t)(uintptr_t)c->avail + p->gpa_off));
	wr64(&p->common, CC_Q_DEVICE, (uint64_t)((int64_t)(uintptr_t)c->used + p->gpa_off));
	noff = rd16(&p->common, CC_Q_NOFF);
	if ((uint64_t)noff * p->notify_mult + 2 > p->notify.len)
		return -EINVAL;
	wr16(&p->common, CC_Q_ENABLE, 1);
	p->qnotify[c->index] = (volatile uint16_t *)(p->notify.p + (size_t)noff * p->notify_mult);
	if (p->efd[c->index] < 0) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

		if (fd < 0)
			return -errno;
		__atomic_store_n(&p->efd[c->index], fd, __ATOMIC_RELEASE);
	}
	return 0;
}

static int pci_kick(struct vc_transport *t, unsigned index)
{
	struct pci_dev *p = to_pci(t);

	/*
	 * DRIVER_OK waits for the first doorbell: by then every queue the
	 * driver wants is set up (3.1.1 orders queue setup before it), and
	 * the transport interface has no "setup done" call.
	 */
	if (__builtin_expect(!p->driver_ok, 0)) {
		set_status(p, ST_DRIVER_OK);
		p->driver_ok = true;
	}
	if (index >= PCI_MAX_QUEUES || !p->qnotify[index])
		return -EINVAL;
	/*
	 * The ring writes must reach memory before the doorbell.  x86 keeps
	 * stores in order, uncached MMIO included, so only the compiler must
	 * not move them; elsewhere a full fence (TSan: gcc does not model
	 * fences, and x86 needs none).
	 */
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
	*p->qnotify[index] = (uint16_t)index;
	return 0;
}

static int pci_call_fd(struct vc_transport *t, unsigned index)
{
	struct pci_dev *p = to_pci(t);

	if (index >= PCI_MAX_QUEUES || p->efd[index] < 0)
		return -1;
	if (!p->thread_running) {
		__atomic_store_n(&p->stop, false, __ATOMIC_RELAXED);
		if (pthread_create(&p->irq_thread, NULL, irq_thread, p))
			return -1;
		p->thread_running = true;
	}
	return p->efd[index];
}

static bool pci_alive(struct vc_transport *t)
{
	struct pci_dev *p = to_pci(t);
	uint8_t st = rd8(&p->common, CC_STATUS);

	/* all-ones: the function is gone; NEEDS_RESET: QEMU's virtio_error (malformed request) */
	return st != 0xff && !(st & (ST_NEEDS_RESET | ST_FAILED));
}

static void pci_close(struct vc_transport *t)
{
	struct pci_dev *p = to_pci(t);

	if (p->thread_running) {
		__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
		pthread_join(p->irq_thread, NULL);
	}
	/* reset first: the device must stop touching our memory before it is freed */
	if (p->common.p)
		reset_device(p);
	for (unsigned i = 0; i < PCI_MAX_QUEUES; i++)
		if (p->efd[i] >= 0)
			close(p->efd[i]);
	for (unsigned i = 0; i < 6; i++)
		if (p->bar[i])
			munmap(p->bar[i], p->bar_len[i]);
	/* after the reset: uio's release clears Bus Master, harmless now */
	if (p->uio_fd >= 0)
		close(p->uio_fd);
	if (p->cfg_fd >= 0)
		close(p->cfg_fd);
	free(p);
}

static const struct vc_transport_ops pci_ops = {
	.name = "virtio-pci",
	.negotiate = pci_negotiate,
	.map_memory = pci_map_memory,
	.config_read = pci_config_read,
	.setup_vring = pci_setup_vring,
	.kick = pci_kick,
	.call_fd = pci_call_fd,
	.alive = pci_alive,
	.close = pci_close,
};

int atx__virtio_pci_open(const char *want, struct vc_transport **out)
{
	struct pci_dev *p;
	char path[PATH_MAX];
	uint16_t cmd;
	int err;

	if (geteuid())
		return -EACCES;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->t.ops = &pci_ops;
	p->cfg_fd = p->uio_fd = -1;
	for (unsigned i = 0; i < PCI_MAX_QUEUES; i++)
		p->efd[i] = -1;
	err = find_device(want, p->bdf, sizeof(p->bdf));
	if (err)
		goto err_close;
	err = bind_uio(p->bdf);
	if (err)
		goto err_close;
	p->uio_fd = open_uio(p->bdf);
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", p->bdf);
	p->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (p->cfg_fd < 0) {
		err = -errno;
		goto err_close;
	}
	err = find_caps(p);
	if (err)
		goto err_close;
	/* the device DMAs into our memory: Bus Master; BAR access: Memory Space */
	err = cfg_read(p, PCI_COMMAND, &cmd, 2);
	if (err)
		goto err_close;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	err = cfg_write(p, PCI_COMMAND, &cmd, 2);
	if (err)
		goto err_close;
	err = reset_device(p);
	if (err)
		goto err_close;
	set_status(p, ST_ACKNOWLEDGE);
	set_status(p, ST_DRIVER);
	wr16(&p->common, CC_MSIX, VIRTIO_MSI_NO_VECTOR);
	p->num_queues = rd16(&p->common, CC_NUMQ);
	*out = &p->t;
	return 0;

err_close:
	pci_close(&p->t);
	return err;
}
