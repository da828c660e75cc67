/* SPDX-License-Identifier: MIT */
/*
 * image_bench.c - `atx image bench`: how close `atx image encrypt
 * --integrity crc32c` comes to hand-written code on the same bytes, in one
 * run, rounds interleaved so that machine drift hits every row alike:
 *
 *   compute     XTS (one keyed EVP context, IV re-init per sector) + ISA-L
 *               crc32c per sector over the input's page-cache bytes (mmap),
 *               into a chunk buffer: the raw compute rate, no I/O
 *   io          io_uring read -> write of the same chunks, no compute: the
 *               page-cache I/O ceiling of this machine
 *   hand        io_uring read -> compute (inline) -> write, queue depth Q
 *   hand-fixed  the same with registered buffers (READ_FIXED/WRITE_FIXED)
 *   atx lanes=N `atx image encrypt` run as a child process
 *
 * Every writer creates a fresh output file, writes header space, data and
 * tags at the image's offsets, fsyncs and closes, as `atx image encrypt`
 * does; outputs are removed between runs and that is not timed (replacing
 * a 1 GiB file frees its pages synchronously in rename/unlink).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <isa-l/crc.h>
#include <liburing.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "image_fmt.h"
#include "atx_simd.h"

#define MAX_ROWS 12
#define MAX_ROUNDS 31

struct ib {
	const char *dir;
	char in[PATH_MAX], out[PATH_MAX], key_path[PATH_MAX];
	bool made_input;
	uint64_t size;
	size_t chunk;
	unsigned qd;
	unsigned rounds;
	unsigned lanes[4], nlanes;
	uint8_t key[64];
	EVP_CIPHER_CTX *xts;
	struct img_hdr h;       /* offsets of a 4 KiB-sector crc32c image of this size */
	const char *self;
	const char *other;      /* --compare-atx: another build's atx, as a row */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One chunk of sectors: XTS in place (plain64, 512-byte IV units) + crc32c per sector. */
static int compute(struct ib *b, uint8_t *dst, const uint8_t *src, size_t len, uint64_t sec,
		   uint32_t *tags)
{
	size_t ss = 4096, i;
	uint8_t tw[16];
	int outl;

	for (i = 0; i < len / ss; i++) {
		img_tweak(tw, (sec + i) * (ss / 512));
		if (EVP_CipherInit_ex2(b->xts, NULL, NULL, tw, 1, NULL) != 1 ||
		    EVP_CipherUpdate(b->xts, dst + i * ss, &outl, src + i * ss, (int)ss) != 1)
			return -EIO;
		tags[i] = ~crc32_iscsi(dst + i * ss, (int)ss, ~0u);
		atx_simd_clean();       /* as the engine does: atx_simd.h */
	}
	return 0;
}

static int run_compute(struct ib *b, double *secs)
{
	int fd = open(b->in, O_RDONLY);
	uint8_t *map, *buf;
	uint32_t *tags;
	double t0;
	int ret = -ENOMEM;

	if (fd < 0)
		return -errno;
	map = mmap(NULL, b->size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	buf = aligned_alloc(4096, b->chunk);
	tags = malloc(b->chunk / 4096 * sizeof(*tags));
	if (!buf || !tags)
		goto out;
	t0 = now_s();
	for (uint64_t off = 0; off < b->size; off += b->chunk) {
		size_t n = b->size - off < b->chunk ? b->size - off : b->chunk;

		ret = compute(b, buf, map + off, n, off / 4096, tags);
		if (ret)
			goto out;
	}
	*secs = now_s() - t0;
	ret = 0;
out:
	free(buf);
	free(tags);
	munmap(map, b->size);
	return ret;
}

/* The hand-written io_uring loop: up to qd chunks, each read -> compute -> write data + tags. */
enum { ST_FREE, ST_READ, ST_WRITE };
struct hslot {
	uint8_t *buf;
	uint32_t *tags;
	uint64_t off;
	size_t len;
	unsigned state, writes;
};

static void prep_rw(struct io_uring *r, bool write, int fd, void *buf, size_t len, uint64_t off,
		    bool fixed, unsigned idx, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);

	if (fixed && write)
		io_uring_prep_write_fixed(sqe, fd, buf, len, off, idx);
	else if (fixed)
		io_uring_prep_read_fixed(sqe, fd, buf, len, off, idx);
	else if (write)
		io_uring_prep_write(sqe, fd, buf, len, off);
	else
		io_uring_prep_read(sqe, fd, buf, len, off);
	io_uring_sqe_set_data64(sqe, ud);
}

/*
 * @sync_read: read with pread() in this thread instead of through the
 * ring.  On tmpfs io_uring punts reads and writes alike to one io-wq
 * worker, which then does every copy; this row shows what moving the
 * reads to the compute thread is worth.
 */
static int run_hand(struct ib *b, bool do_compute, bool fixed, bool sync_read, double *secs)
{
	struct io_uring ring;
	struct hslot *sl = calloc(b->qd, sizeof(*sl));
	struct iovec *iov = calloc(b->qd, sizeof(*iov));
	int in = open(b->in, O_RDONLY), out = -1, ret;
	uint64_t next = 0, done = 0;
	unsigned i, busy = 0;
	double t0;

	if (!sl || !iov || in < 0)
		return -ENOMEM;
	/* The ring setup atx's loop uses (src/loop.c). */
	ret = io_uring_queue_init(2 * b->qd + 8, &ring, IORING_SETUP_COOP_TASKRUN);
	if (ret < 0)
		return ret;
	for (i = 0; i < b->qd; i++) {
		sl[i].buf = aligned_alloc(4096, b->chunk);
		sl[i].tags = calloc(b->chunk / 4096, 4);
		iov[i] = (struct iovec){ sl[i].buf, b->chunk };
		memset(sl[i].buf, 0, b->chunk);
	}
	if (fixed && (ret = io_uring_register_buffers(&ring, iov, b->qd)) < 0)
		goto out;
	t0 = now_s();
	out = open(b->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0 || ftruncate(out, img_file_size(&b->h)) < 0) {
		ret = -errno;
		goto out;
	}
	while (done < b->size) {
		struct io_uring_cqe *cqe;

		for (i = 0; i < b->qd && next < b->size; i++) {
			if (sl[i].state != ST_FREE)
				continue;
			sl[i].off = next;
			sl[i].len = b->size - next < b->chunk ? b->size - next : b->chunk;
			next += sl[i].len;
			sl[i].state = ST_READ;
			busy++;
			if (!sync_read) {
				prep_rw(&ring, false, in, sl[i].buf, sl[i].len, sl[i].off, fixed, i, i);
				continue;
			}
			if (pread(in, sl[i].buf, sl[i].len, sl[i].off) != (ssize_t)sl[i].len ||
			    compute(b, sl[i].buf, sl[i].buf, sl[i].len, sl[i].off / 4096, sl[i].tags)) {
				ret = -EIO;
				goto out;
			}
			sl[i].state = ST_WRITE;
			sl[i].writes = 2;
			prep_rw(&ring, true, out, sl[i].buf, sl[i].len, b->h.data_offset + sl[i].off,
				fixed, i, i);
			prep_rw(&ring, true, out, sl[i].tags, sl[i].len / 4096 * 4,
				b->h.integ_offset + sl[i].off / 4096 * 4, false, 0, i);
		}
		/*
		 * Spin briefly before sleeping, as atx's loop does: a wake-up
		 * costs 17-60 us here (PERF.md), a 256 KiB chunk ~100 us of I/O.
		 */
		ret = io_uring_submit(&ring);
		if (ret < 0)
			goto out;
		double ts = now_s();

		while (!io_uring_cq_ready(&ring) && now_s() - ts < 50e-6)
			__builtin_ia32_pause();
		if (!io_uring_cq_ready(&ring)) {
			ret = io_uring_wait_cqe(&ring, &cqe);
			if (ret < 0)
				goto out;
		}
		unsigned head, seen = 0;

		io_uring_for_each_cqe(&ring, head, cqe) {
			struct hslot *s = &sl[cqe->user_data];

			seen++;
			if (cqe->res < 0 || (s->state == ST_READ && (size_t)cqe->res != s->len)) {
				ret = cqe->res < 0 ? cqe->res : -EIO;  /* short: not worth continuing here */
				goto out;
			}
			if (s->state == ST_READ) {
				if (do_compute && compute(b, s->buf, s->buf, s->len, s->off / 4096, s->tags)) {
					ret = -EIO;
					goto out;
				}
				s->state = ST_WRITE;
				s->writes = do_compute ? 2 : 1;
				prep_rw(&ring, true, out, s->buf, s->len, b->h.data_offset + s->off, fixed,
					(unsigned)cqe->user_data, cqe->user_data);
				if (do_compute)
					prep_rw(&ring, true, out, s->tags, s->len / 4096 * 4,
						b->h.integ_offset + s->off / 4096 * 4, false, 0,
						cqe->user_data);
			} else if (--s->writes == 0) {
				s->state = ST_FREE;
				busy--;
				done += s->len;
			}
		}
		io_uring_cq_advance(&ring, seen);
	}
	if (fsync(out) < 0 && errno != EINVAL) {
		ret = -errno;
		goto out;
	}
	close(out);
	out = -1;
	*secs = now_s() - t0;
	ret = 0;
out:
	if (out >= 0)
		close(out);
	io_uring_queue_exit(&ring);
	close(in);
	for (i = 0; i < b->qd; i++) {
		free(sl[i].buf);
		free(sl[i].tags);
	}
	free(sl);
	free(iov);
	return ret;
}

/* @env: "NAME=1" for the child (a variant of the tool), or NULL. */
static int run_atx(struct ib *b, const char *exe, unsigned lanes, const char *env, double *secs)
{
	char l[16], qd[16], ch[32];
	double t0 = now_s();
	int st;
	pid_t pid;

	snprintf(l, sizeof(l), "%u", lanes);
	snprintf(qd, sizeof(qd), "%u", b->qd);
	snprintf(ch, sizeof(ch), "%zu", b->chunk);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (env)
			putenv((char *)env);
		execl(exe, "atx", "image", "encrypt", "-i", b->in, "-o", b->out, "--key-file",
		      b->key_path, "--integrity", "crc32c", "--lanes", l, "--queue-depth", qd,
		      "--chunk-size", ch, "--engine", "soft", "--quiet", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	*secs = now_s() - t0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int make_input(struct ib *b)
{
	size_t bs = 1 << 20;
	uint8_t *buf = malloc(bs);
	int fd, ret = 0;

	snprintf(b->in, sizeof(b->in), "%s/atx-image-bench.plain", b->dir);
	fd = open(b->in, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !buf) {
		free(buf);
		return -errno;
	}
	b->made_input = true;
	for (uint64_t off = 0; off < b->size && !ret; off += bs) {
		size_t n = b->size - off < bs ? b->size - off : bs;

		if (RAND_bytes(buf, (int)n) != 1 || pwrite(fd, buf, n, off) != (ssize_t)n)
			ret = -EIO;
	}
	close(fd);
	free(buf);
	return ret;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fputs("usage: atx image bench [--size MiB] [--dir DIR] [-i PLAIN] [--rounds N]\n"
	      "                       [--chunk-size BYTES] [--queue-depth N] [--lanes 0,1,2]\n"
	      "                       [--compare-atx PATH]  (another build's atx: one more row)\n"
	      "Times, interleaved in one run: the raw XTS + crc32c compute loop, io_uring\n"
	      "read->write without compute, a hand-written io_uring read->compute->write\n"
	      "loop (plain and registered buffers), and `atx image encrypt --integrity\n"
	      "crc32c` with each lane count; prints medians, ranges and ratios.\n"
	      "Defaults: 1024 MiB of random data in /dev/shm, 3 rounds, 256 KiB chunks,\n"
	      "queue depth 8.\n", f);
}

int cmd_image_bench(int argc, char **argv, const char *self);

int cmd_image_bench(int argc, char **argv, const char *self)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "lanes", required_argument, NULL, 'l' },
		{ "compare-atx", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ib b = { .dir = "/dev/shm", .size = 1024ull << 20, .chunk = 256 << 10, .qd = 8,
			.rounds = 3, .lanes = { 0, 1, 2 }, .nlanes = 3, .self = self };
	const char *names[MAX_ROWS];
	/* Rows after the lane rows: variants of lanes=0 that show what each change is worth. */
	static const char *const var_env[] = { "ATX_IMAGE_NO_FIXED=1", "ATX_IMAGE_PER_SECTOR=1" };
	static const char *const var_name[] = { "  lanes 0, unregistered buffers",
						"  lanes 0, a cipher per sector" };
	unsigned nvar = 2;
	double t[MAX_ROWS][MAX_ROUNDS], med[MAX_ROWS], lo_[MAX_ROWS], hi[MAX_ROWS];
	unsigned nrows, r, i, ix_compute = 0, ix_io = 1, ix_hand = 2;
	char lane_names[4][32];
	int c, ret = 2, fd;
	struct stat st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': b.size = strtoull(optarg, NULL, 0) << 20; break;
		case 'd': b.dir = optarg; break;
		case 'i': snprintf(b.in, sizeof(b.in), "%s", optarg); break;
		case 'r': b.rounds = (unsigned)atoi(optarg); break;
		case 'c': b.chunk = strtoull(optarg, NULL, 0); break;
		case 'q': b.qd = (unsigned)atoi(optarg); break;
		case 'l': {
			char *s = optarg, *e;

			for (b.nlanes = 0; *s && b.nlanes < 4; s = *e ? e + 1 : e) {
				b.lanes[b.nlanes++] = (unsigned)strtoul(s, &e, 10);
				if (e == s)
					break;
			}
			break;
		}
		case 'x': b.other = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!b.rounds || b.rounds > MAX_ROUNDS || !b.qd || b.qd > 256 || b.chunk < 4096 ||
	    b.chunk % 4096 || b.chunk > (16u << 20)) {
		fputs("atx: image bench: bad --rounds (1..31), --queue-depth (1..256) or --chunk-size\n",
		      stderr);
		return 2;
	}
	if (!b.in[0]) {
		if (!b.size || b.size % 4096) {
			fputs("atx: image bench: --size must be a positive number of MiB\n", stderr);
			return 2;
		}
		if (make_input(&b)) {
			fprintf(stderr, "atx: image bench: cannot write %s: %s\n", b.in, strerror(errno));
			goto out;
		}
	} else if (stat(b.in, &st) < 0 || st.st_size <= 0 || st.st_size % 4096) {
		fprintf(stderr, "atx: image bench: %s: need a non-empty file of whole 4 KiB sectors\n",
			b.in);
		return 2;
	} else {
		b.size = st.st_size;
		b.dir = b.in[0] == '/' ? b.in : ".";
	}
	{
		const char *slash = strrchr(b.in, '/');
		int dl = slash ? (int)(slash - b.in) : 1;

		snprintf(b.out, sizeof(b.out), "%.*s/atx-image-bench.out", dl, slash ? b.in : ".");
		snprintf(b.key_path, sizeof(b.key_path), "%.*s/atx-image-bench.key", dl,
			 slash ? b.in : ".");
	}
	do {
		RAND_bytes(b.key, sizeof(b.key));
	} while (!memcmp(b.key, b.key + 32, 32));
	fd = open(b.key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, b.key, 64) != 64) {
		fprintf(stderr, "atx: image bench: %s: %s\n", b.key_path, strerror(errno));
		goto out;
	}
	close(fd);
	img_hdr_init(&b.h, b.size, 4096, 64, IMG_INTEG_CRC32C, 0);
	b.xts = EVP_CIPHER_CTX_new();
	if (!b.xts || EVP_CipherInit_ex2(b.xts, EVP_aes_256_xts(), b.key, NULL, 1, NULL) != 1)
		goto out;

	names[0] = "compute (XTS + crc32c, no I/O)";
	names[1] = "io_uring read->write, no compute";
	names[2] = "hand io_uring read->compute->write";
	names[3] = "  the same, registered buffers";
	names[4] = "  the same, pread() in the loop thread";
	nrows = 5;
	for (i = 0; i < b.nlanes && nrows < MAX_ROWS; i++) {
		snprintf(lane_names[i], sizeof(lane_names[i]), "atx image, lanes %u", b.lanes[i]);
		names[nrows++] = lane_names[i];
	}
	for (i = 0; i < nvar; i++)
		names[nrows++] = var_name[i];
	if (b.other)
		names[nrows++] = "  lanes 0, --compare-atx's binary";
	printf("atx image bench: %.0f MiB in %s, chunk %zu KiB, queue depth %u, %u rounds, "
	       "AES-256-XTS 4 KiB sectors + crc32c\n", b.size / 1048576.0, b.in, b.chunk >> 10, b.qd,
	       b.rounds);
	fflush(stdout);
	/* Warm the page cache with the input. */
	run_hand(&b, false, false, false, &t[0][0]);
	unlink(b.out);
	for (r = 0; r < b.rounds; r++) {
		for (unsigned k = 0; k < nrows; k++) {
			/* Rotate the order per round so slow drift does not favour a row. */
			unsigned row = (k + r) % nrows;
			double secs = 0;

			switch (row) {
			case 0: ret = run_compute(&b, &secs); break;
			case 1: ret = run_hand(&b, false, false, false, &secs); break;
			case 2: ret = run_hand(&b, true, false, false, &secs); break;
			case 3: ret = run_hand(&b, true, true, false, &secs); break;
			case 4: ret = run_hand(&b, true, true, true, &secs); break;
			default:
				if (row - 5 < b.nlanes)
					ret = run_atx(&b, b.self, b.lanes[row - 5], NULL, &secs);
				else if (row - 5 - b.nlanes < nvar)
					ret = run_atx(&b, b.self, 0, var_env[row - 5 - b.nlanes], &secs);
				else
					ret = run_atx(&b, b.other, 0, NULL, &secs);
				break;
			}
			unlink(b.out);
			if (ret) {
				fprintf(stderr, "atx: image bench: %s: %s\n", names[row], strerror(-ret));
				ret = 2;
				goto out;
			}
			t[row][r] = b.size / secs / 1e9;
		}
	}
	for (i = 0; i < nrows; i++) {
		double v[MAX_ROUNDS];

		memcpy(v, t[i], b.rounds * sizeof(double));
		qsort(v, b.rounds, sizeof(double), cmp_d);
		med[i] = v[b.rounds / 2];
		lo_[i] = v[0];
		hi[i] = v[b.rounds - 1];
	}
	printf("%-40s %7s %15s %10s %10s\n", "", "GB/s", "range", "/compute", "/hand");
	for (i = 0; i < nrows; i++)
		printf("%-40s %7.2f %7.2f-%-7.2f %10.2f %10.2f\n", names[i], med[i], lo_[i], hi[i],
		       med[i] / med[ix_compute], med[i] / med[ix_hand]);
	printf("io ceiling / compute: %.2f (page-cache read+write alone, vs XTS+crc32c alone)\n",
	       med[ix_io] / med[ix_compute]);
	ret = 0;
out:
	EVP_CIPHER_CTX_free(b.xts);
	unlink(b.out);
	unlink(b.key_path);
	if (b.made_input)
		unlink(b.in);
	return ret;
}
