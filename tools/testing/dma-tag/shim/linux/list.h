/* SPDX-License-Identifier: GPL-2.0 */
/* shim: the type only; the tag core does not use lists */
#ifndef SHIM_LIST_H
#define SHIM_LIST_H
struct list_head {
	struct list_head *next, *prev;
};
#endif
