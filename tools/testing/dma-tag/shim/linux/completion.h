/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: completions on a pthread mutex and condition variable. A test may
 * set shim_complete_all_hook to run right after complete_all() has woken the
 * waiters, before its caller goes on: a preemption there (an RCU callback
 * kthread, PREEMPT_RT) is legal in the kernel and opens a window a test can
 * then hold open.
 */
#ifndef SHIM_COMPLETION_H
#define SHIM_COMPLETION_H
#include "kernel-shim.h"

#define SHIM_COMPLETE_ALL (UINT_MAX / 2)

struct completion {
	unsigned int done;
	pthread_mutex_t lock;
	pthread_cond_t wait;
};

extern void (*shim_complete_all_hook)(struct completion *x);

static inline void init_completion(struct completion *x)
{
	x->done = 0;
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->wait, NULL);
}

static inline void complete_all(struct completion *x)
{
	void (*hook)(struct completion *x);

	pthread_mutex_lock(&x->lock);
	x->done = SHIM_COMPLETE_ALL;
	pthread_cond_broadcast(&x->wait);
	pthread_mutex_unlock(&x->lock);
	hook = __atomic_load_n(&shim_complete_all_hook, __ATOMIC_ACQUIRE);
	if (hook)
		hook(x);
}

static inline void complete(struct completion *x)
{
	pthread_mutex_lock(&x->lock);
	if (x->done != SHIM_COMPLETE_ALL)
		x->done++;
	pthread_cond_signal(&x->wait);
	pthread_mutex_unlock(&x->lock);
}

static inline void wait_for_completion(struct completion *x)
{
	might_sleep();
	pthread_mutex_lock(&x->lock);
	while (!x->done)
		pthread_cond_wait(&x->wait, &x->lock);
	if (x->done != SHIM_COMPLETE_ALL)
		x->done--;
	pthread_mutex_unlock(&x->lock);
}
#endif
