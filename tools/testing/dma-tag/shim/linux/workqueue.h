/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: workqueues, with the kernel's semantics for what the tag core uses.
 * A work item runs in process context on a worker thread of its own (shim.c,
 * registered with RCU), never concurrently with itself; queue_work() on an
 * item that is pending does nothing and returns false; the pending bit is
 * cleared just before the function runs, so a queue_work() during the run
 * runs it again; flush_work() waits for the last queueing's run to finish;
 * cancel_work_sync() takes a pending item off the queue and waits for a run
 * in progress, queue_work() failing meanwhile.
 *
 * shim_wq_delay_us, when a test sets it (__atomic_store_n), is how long the
 * worker takes to pick up a pending item (a busy kworker); queueings
 * meanwhile merge into the pending one. shim_wq_stats(): the runs so far and
 * the most synchronize_rcu() calls one run made.
 */
#ifndef SHIM_WORKQUEUE_H
#define SHIM_WORKQUEUE_H
#include "kernel-shim.h"

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

/* all fields under the shim's workqueue lock */
struct work_struct {
	work_func_t func;
	struct work_struct *next;	/* in the queue while pending */
	bool pending;
	bool running;
	unsigned long queued;		/* queueings that ran or will run */
	unsigned long done;		/* the last queueing whose run ended */
};

#define __WORK_INITIALIZER(n, f) { .func = (f) }
#define DECLARE_WORK(n, f) struct work_struct n = __WORK_INITIALIZER(n, f)
#define INIT_WORK(w, f) do {						\
	memset((w), 0, sizeof(*(w)));					\
	(w)->func = (f);						\
} while (0)

struct workqueue_struct {
	const char *name;
};

extern struct workqueue_struct *system_wq;
extern struct workqueue_struct *system_unbound_wq;

extern unsigned int shim_wq_delay_us;
void shim_wq_stats(long *runs, long *max_gp_per_run);
void shim_wq_reset_stats(void);

bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool flush_work(struct work_struct *work);
bool cancel_work_sync(struct work_struct *work);
/* a work item is running on this thread */
bool shim_in_worker(void);
#endif
