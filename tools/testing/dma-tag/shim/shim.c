// SPDX-License-Identifier: GPL-2.0
/* The shims' global state, linked into every test program. */
#include <unistd.h>
#include <linux/kernel-shim.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/rcu-core.h>
#include <linux/workqueue.h>

int shim_fail_alloc_after = -1;
unsigned int shim_fail_permille;
void (*shim_alloc_hook)(gfp_t gfp);
void (*shim_complete_all_hook)(struct completion *x);
char shim_rcu_gp, shim_rcu_cb_done;
long shim_nr_synchronize_rcu;
__thread long shim_thread_nr_synchronize_rcu;
__thread unsigned int shim_atomic;
__thread unsigned int shim_task_flags;
__thread struct shim_held shim_held[SHIM_MAX_HELD];
__thread unsigned int shim_nr_held;

/* per-thread xorshift, seeded from the thread's stack address */
static __thread uint64_t fail_rng;

bool shim_fail_now(void)
{
	if (!fail_rng)
		fail_rng = (uint64_t)(uintptr_t)&fail_rng | 1;
	fail_rng ^= fail_rng << 13;
	fail_rng ^= fail_rng >> 7;
	fail_rng ^= fail_rng << 17;
	return fail_rng % 1000 < __atomic_load_n(&shim_fail_permille,
						 __ATOMIC_RELAXED);
}

/*
 * The workqueue: one worker thread, started on the first queue_work(), runs
 * the pending items in the order they were queued. One thread for every
 * queue is one of the schedules the kernel may pick.
 */
static struct workqueue_struct shim_system_wq = { "events" };
static struct workqueue_struct shim_system_unbound_wq = { "events_unbound" };
struct workqueue_struct *system_wq = &shim_system_wq;
struct workqueue_struct *system_unbound_wq = &shim_system_unbound_wq;
unsigned int shim_wq_delay_us;
static long shim_wq_runs;
static long shim_wq_max_gp_per_run;

static pthread_mutex_t wq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wq_more = PTHREAD_COND_INITIALIZER;	/* queued */
static pthread_cond_t wq_ran = PTHREAD_COND_INITIALIZER;	/* a run ended */
static struct work_struct *wq_head, **wq_tail = &wq_head;
static bool wq_started;
static __thread struct work_struct *wq_current;

static void *shim_worker(void *arg)
{
	(void)arg;
	shim_thread_start();
	pthread_mutex_lock(&wq_lock);
	for (;;) {
		struct work_struct *work;
		unsigned long seq;
		long gp;

		unsigned int delay;

		while (!wq_head)
			pthread_cond_wait(&wq_more, &wq_lock);
		delay = __atomic_load_n(&shim_wq_delay_us, __ATOMIC_RELAXED);
		if (delay) {
			pthread_mutex_unlock(&wq_lock);
			usleep(delay);
			pthread_mutex_lock(&wq_lock);
			if (!wq_head)
				continue;	/* cancelled meanwhile */
		}
		work = wq_head;
		wq_head = work->next;
		if (!wq_head)
			wq_tail = &wq_head;
		work->next = NULL;
		work->pending = false;
		work->running = true;
		seq = work->queued;
		pthread_mutex_unlock(&wq_lock);

		gp = shim_thread_nr_synchronize_rcu;
		wq_current = work;
		work->func(work);
		wq_current = NULL;
		if (shim_atomic || shim_nr_held || shim_task_flags)
			shim_bug("work item returned in atomic context, with a lock held or in a noio scope");
		gp = shim_thread_nr_synchronize_rcu - gp;

		pthread_mutex_lock(&wq_lock);
		shim_wq_runs++;
		if (gp > shim_wq_max_gp_per_run)
			shim_wq_max_gp_per_run = gp;
		work->running = false;
		if (seq > work->done)
			work->done = seq;
		pthread_cond_broadcast(&wq_ran);
	}
	return NULL;
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	pthread_t t;

	(void)wq;
	pthread_mutex_lock(&wq_lock);
	if (work->pending) {
		pthread_mutex_unlock(&wq_lock);
		return false;
	}
	work->pending = true;
	work->queued++;
	*wq_tail = work;
	wq_tail = &work->next;
	if (!wq_started) {
		wq_started = true;
		if (pthread_create(&t, NULL, shim_worker, NULL) ||
		    pthread_detach(t))
			shim_bug("cannot start the worker thread");
	}
	pthread_cond_signal(&wq_more);
	pthread_mutex_unlock(&wq_lock);
	return true;
}

bool flush_work(struct work_struct *work)
{
	unsigned long target;
	bool waited;

	might_sleep();
	if (wq_current == work)
		shim_bug("flush_work() of the work item running it: deadlock");
	pthread_mutex_lock(&wq_lock);
	target = work->queued;
	waited = work->done < target;
	/* runs end in queueing order: a later one may have ended meanwhile */
	while (work->done < target)
		pthread_cond_wait(&wq_ran, &wq_lock);
	pthread_mutex_unlock(&wq_lock);
	return waited;
}

bool cancel_work_sync(struct work_struct *work)
{
	struct work_struct **p;
	bool was_pending;

	might_sleep();
	if (wq_current == work)
		shim_bug("cancel_work_sync() of the work item running it: deadlock");
	pthread_mutex_lock(&wq_lock);
	was_pending = work->pending;
	if (was_pending) {
		for (p = &wq_head; *p != work; p = &(*p)->next)
			;
		*p = work->next;
		if (wq_tail == &work->next)
			wq_tail = p;
		work->next = NULL;
	}
	/* as the kernel's: hold the pending bit, queue_work() fails meanwhile */
	work->pending = true;
	while (work->running)
		pthread_cond_wait(&wq_ran, &wq_lock);
	/* every queueing ran or never will: flushers return */
	work->done = work->queued;
	pthread_cond_broadcast(&wq_ran);
	work->pending = false;
	pthread_mutex_unlock(&wq_lock);
	return was_pending;
}

bool shim_in_worker(void)
{
	return wq_current != NULL;
}

void shim_wq_stats(long *runs, long *max_gp_per_run)
{
	pthread_mutex_lock(&wq_lock);
	*runs = shim_wq_runs;
	*max_gp_per_run = shim_wq_max_gp_per_run;
	pthread_mutex_unlock(&wq_lock);
}

void shim_wq_reset_stats(void)
{
	pthread_mutex_lock(&wq_lock);
	shim_wq_runs = 0;
	shim_wq_max_gp_per_run = 0;
	pthread_mutex_unlock(&wq_lock);
}
