#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_log_pvt.h"

/*
 * The writer thread of a direct topic.  A full buffer is handed to it and
 * appends go on into a spare one: the device's time (about 120 ns a record
 * here, two thirds of a synchronous append) overlaps the drain's work.
 * Writes leave in the order they were queued, so a partial block written
 * again later lands after its first version.  A commit waits for the queue
 * to empty before the ring is released: nothing released sits only in
 * memory.  After a failed write it writes nothing more: a later buffer
 * landing past the failed one would leave a hole in the segment (zeros on a
 * disk; on a full tmpfs a read of it through a mapping is SIGBUS).  The
 * error stays until the topic is closed, and every caller recovers from
 * there (the drain's log_refused: close, reopen, records from the rings).
 */
#define WRITER_BUFFERS 4

struct weir_log_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct { uint8_t *buf; size_t len; uint64_t pos; int fd; } q[WRITER_BUFFERS];
	unsigned head, tail;          /* queued: [head, tail) mod WRITER_BUFFERS */
	uint8_t *spare[WRITER_BUFFERS];
	unsigned n_spare;
	int err;                      /* first write error (errno): every call reports it from then on */
	bool stop;
};

static void *
writer_main(void *arg)
{
	struct weir_log_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->head == w->tail)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == w->tail)
			break;
		unsigned slot = w->head % WRITER_BUFFERS;
		uint8_t *buf = w->q[slot].buf;
		size_t len = w->q[slot].len;
		uint64_t pos = w->q[slot].pos;
		int fd = w->q[slot].fd;
		int err = w->err; /* failed before: not written */
		pthread_mutex_unlock(&w->mu);
		for (size_t done = 0; done < len && !err;) {
			ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(pos + done));
			if (n > 0)
				done += (size_t)n;
			else if (n == 0 || errno != EINTR)
				err = n == 0 ? EIO : errno;
		}
		pthread_mutex_lock(&w->mu);
		if (err && !w->err)
			w->err = err;
		w->head++;
		w->spare[w->n_spare++] = buf;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
weir_log_writer_start(struct weir_log_topic *t)
{
	struct weir_log_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	for (unsigned i = 0; i < WRITER_BUFFERS - 1; i++)
		if (posix_memalign((void **)&w->spare[w->n_spare++], WEIR_LOG_BLOCK, t->buf_cap + WEIR_LOG_BLOCK) != 0) {
			w->n_spare--;
			goto fail;
		}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		goto fail;
	t->writer = w;
	return 0;
fail:
	for (unsigned i = 0; i < w->n_spare; i++)
		free(w->spare[i]);
	free(w);
	return -1;
}

int
weir_log_writer_wait_idle(struct weir_log_writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->head != w->tail)
		pthread_cond_wait(&w->cv, &w->mu);
	int err = w->err;
	pthread_mutex_unlock(&w->mu);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int
weir_log_writer_submit(struct weir_log_topic *t)
{
	struct weir_log_writer *w = t->writer;
	size_t whole = t->buf_len & ~(size_t)(WEIR_LOG_BLOCK - 1);
	size_t out = (t->buf_len + WEIR_LOG_BLOCK - 1) & ~(size_t)(WEIR_LOG_BLOCK - 1);
	memset(t->buf + t->buf_len, 0, out - t->buf_len);
	pthread_mutex_lock(&w->mu);
	while (w->n_spare == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->err) { /* not queued: it would land past the write that failed */
		errno = w->err;
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	uint8_t *next = w->spare[--w->n_spare];
	unsigned slot = w->tail % WRITER_BUFFERS;
	w->q[slot].buf = t->buf;
	w->q[slot].len = out;
	w->q[slot].pos = t->file_pos;
	w->q[slot].fd = t->fd;
	w->tail++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	memcpy(next, t->buf + whole, t->buf_len - whole); /* the writer only reads buf */
	t->buf = next;
	t->file_pos += whole;
	t->buf_len -= whole;
	return 0;
}

void
weir_log_writer_stop(struct weir_log_topic *t)
{
	struct weir_log_writer *w = t->writer;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	for (unsigned i = 0; i < w->n_spare; i++)
		free(w->spare[i]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	t->writer = NULL;
}
