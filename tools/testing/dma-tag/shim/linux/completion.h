/* SPDX-License-Identifier: GPL-2.0 */
/* shim: the type only; the tag core does not wait */
#ifndef SHIM_COMPLETION_H
#define SHIM_COMPLETION_H
struct completion {
	unsigned int done;
};
#endif
