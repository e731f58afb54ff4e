#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every check of the retirement tests can fail: each mutant below breaks the
# tag core the way the check is there to catch, in a copy of block/,
# include/linux/blk-dma-tag.h and this directory (the tree is never
# touched), and the named program must then report the named failure (a
# "not ok" line or a sanitizer/shim report); a mutant whose failure is a
# race gets a few runs. One TAP line per mutant: "ok - mutant-NAME" when
# the check caught it. It takes a few minutes.
#
# Usage: can-fail.sh [NAME...]   (default: every mutant)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TSAN_OPTIONS="suppressions=$here/tsan.supp halt_on_error=1 exitcode=66"
export ASAN_OPTIONS="detect_leaks=1"
rc=0
only=" $* "
cc -O2 -Wall -o "$tmp/replace-once" "$here/replace-once.c" || exit 1

core=block/blk-dma-tag-disk.c

# mutant NAME PROGRAM EXPECT FILE OLD NEW [FILE OLD NEW...]: replace OLD by
# NEW (each exactly once) in the copy, build PROGRAM, run it, and look for
# EXPECT (an extended regex) in what it printed
mutant() {
	local name=$1 prog=$2 expect=$3 dir out status
	shift 3
	if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then
		return
	fi
	dir=$tmp/$name
	mkdir -p "$dir/block" "$dir/include/linux" "$dir/tools/testing"
	cp "$root/block/blk-dma-tag.c" "$root/block/blk-dma-tag-disk.c" "$dir/block/"
	cp "$root/include/linux/blk-dma-tag.h" "$dir/include/linux/"
	cp -r "$here" "$dir/tools/testing/dma-tag"
	rm -f "$dir/tools/testing/dma-tag/"{tag-core-test,stress-asan,stress-tsan}
	while [ $# -ge 3 ]; do
		if ! "$tmp/replace-once" "$dir/$1" "$2" "$3"; then
			echo "not ok - mutant-$name # does not apply to $1 any more"
			rc=1
			return
		fi
		shift 3
	done
	if ! make -s -C "$dir/tools/testing/dma-tag" "$prog" >"$dir/build.log" 2>&1; then
		echo "not ok - mutant-$name # does not build: $(grep -m 1 error "$dir/build.log")"
		rc=1
		return
	fi
	out=$dir/out
	# a race a run may miss: up to $tries runs, another seed each
	for seed in $(seq 1 "${tries:-1}"); do
		case $prog in
		tag-core-test) timeout 120 "$dir/tools/testing/dma-tag/$prog" $seed 100 >"$out" 2>&1 ;;
		*) timeout 120 "$dir/tools/testing/dma-tag/$prog" $seed 2000 >"$out" 2>&1 ;;
		esac
		status=$?
		[ "$status" -ne 0 ] && grep -Eq -- "$expect" "$out" && break
	done
	if [ "$status" -ne 0 ] && grep -Eq -- "$expect" "$out"; then
		echo "ok - mutant-$name"
	else
		echo "not ok - mutant-$name # $prog exit $status, no /$expect/"
		grep -E '^not ok|ERROR|BUG|WARNING' "$out" | head -n 5 | sed 's/^/#   /'
		rc=1
	fi
}

# unmap waits for a grace period (as it once waited for the IO)
unmap_end='	blk_dma_tag_stop(tag->dt, tag);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
}'
mutant unmap-synchronize-rcu tag-core-test '^not ok - unmap-waits-for-no-grace-period' \
	$core "$unmap_end" '	blk_dma_tag_stop(tag->dt, tag);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
	synchronize_rcu();
}'
mutant unmap-synchronize-rcu-many stress-asan '^not ok - unmap-of-many-waits-for-no-grace-period|waited for a grace period' \
	$core "$unmap_end" '	blk_dma_tag_stop(tag->dt, tag);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
	synchronize_rcu();
}'

# unmap takes the disk's tag lock (a mapping or a driver's unmap may hold it)
mutant unmap-takes-tag-lock tag-core-test 'recursive locking|sleeping function called from atomic context' \
	$core "$unmap_end" '	mutex_lock_nested(&tag->dt->lock, tag->depth);
	blk_dma_tag_stop(tag->dt, tag);
	mutex_unlock(&tag->dt->lock);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
}'

# the driver unmaps when the owner unmaps, IO or not (member tags too)
mutant unmap-calls-driver tag-core-test '^not ok - unmap-returns-with-io-in-flight' \
	$core "$unmap_end" '	blk_dma_tag_stop(tag->dt, tag);
	if (tag->kind == BLK_DMA_TAG_LEAF && tag->priv)
		tag->disk->fops->dma_tag_ops->unmap(tag->disk, tag);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
}'
mutant member-unmap-calls-driver tag-core-test '^not ok - member-tag-retired-after-its-io' \
	$core '		if (old->m[i].tag && !blk_dma_tag_in_table(new, old->m[i].tag))
			blk_dma_tag_unmap(old->m[i].tag);' \
	'		if (old->m[i].tag && !blk_dma_tag_in_table(new, old->m[i].tag)) {
			struct blk_dma_tag *mt = old->m[i].tag;

			if (mt->kind == BLK_DMA_TAG_LEAF && mt->priv)
				mt->disk->fops->dma_tag_ops->unmap(mt->disk, mt);
			blk_dma_tag_unmap(mt);
		}'

# a lookup takes a stopped tag the stale index still names
mutant attach-takes-stopped-tag tag-core-test '^not ok - unmapped-tag-not-found' \
	$core '	while (tag && !percpu_ref_tryget_live(&tag->users))
		tag = rcu_dereference(tag->index_next);' \
	'	if (tag)
		__atomic_fetch_add(&tag->users.count, 1, __ATOMIC_ACQ_REL);'

# retired at unmap, the IO in flight notwithstanding
mutant retire-at-unmap tag-core-test 'percpu_ref_exit with count|^not ok - flush-keeps-a-tag-with-io-in-flight' \
	$core "$unmap_end" '	blk_dma_tag_stop(tag->dt, tag);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED | BLK_DMA_TAG_DRAINED);
}'

# the owner queues a tag del_gendisk() finished, as the last put does too
# (the race the bit pair closes): under ASan and under TSan
unmap_queues_itself='	blk_dma_tag_stop(tag->dt, tag);
	if (READ_ONCE(tag->finished)) {
		atomic_fetch_or(BLK_DMA_TAG_RELEASED, &tag->state);
		blk_dma_tag_queue_retire(tag);
		return;
	}
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
}'
tries=3 mutant revoked-unmap-queues-itself stress-asan 'heap-use-after-free|refcount_t|^not ok - revoke-and-unmap-during-the-last-put' \
	$core "$unmap_end" "$unmap_queues_itself"
tries=3 mutant revoked-unmap-queues-itself-tsan stress-tsan 'heap-use-after-free|data race|refcount_t|^not ok - revoke-and-unmap-during-the-last-put' \
	$core "$unmap_end" "$unmap_queues_itself"

# a tag does not hold its buffer
mutant map-takes-no-buf-ref tag-core-test '^not ok - owner-put-with-a-tag-left-releases-nothing' \
	$core '	refcount_inc(&buf->ref);
	mutex_unlock(&dt->lock);' '	mutex_unlock(&dt->lock);'
mutant map-takes-no-buf-ref-stress stress-asan 'released before its owner let go|refcount_t' \
	$core '	refcount_inc(&buf->ref);
	mutex_unlock(&dt->lock);' '	mutex_unlock(&dt->lock);'

# the buffer is let go before the tag is freed
mutant buf-put-before-free tag-core-test '^not ok - buffer-released-once-after-member-tags' \
	$core '	blk_dma_tag_free(tag);
	blk_dma_buf_put(buf);' '	blk_dma_buf_put(buf);
	blk_dma_tag_free(tag);'

# the buffer is never let go: never released
mutant no-buf-put tag-core-test '^not ok - driver-unmap-and-release-after-io-and-flush' \
	$core '	blk_dma_tag_free(tag);
	blk_dma_buf_put(buf);' '	blk_dma_tag_free(tag);
	(void)buf;'
mutant no-buf-put-stress stress-asan '^not ok - batched-retirement-releases-every-buffer' \
	$core '	blk_dma_tag_free(tag);
	blk_dma_buf_put(buf);' '	blk_dma_tag_free(tag);
	(void)buf;'

# flush returns at once, or after one round (one stacking level)
mutant flush-nothing tag-core-test '^not ok - driver-unmap-and-release-after-io-and-flush' \
	$core '		rcu_barrier();
		flush_work(&blk_dma_tag_retire_work);
		if' '		if'
# (a case before flush-settles-every-level may already see a member level
# left unsettled, as the retire worker's timing goes)
mutant flush-one-round tag-core-test '^not ok - flush-settles-every-level|^not ok - buffer-released-once-after-member-tags' \
	$core '	for (level = 0; level <= BLK_DMA_TAG_MAX_DEPTH + 1; level++) {' \
	'	for (level = 0; level < 1; level++) {'
mutant flush-one-round-stress stress-asan 'not released by a flush|^not ok - batched-retirement-releases-every-buffer' \
	$core '	for (level = 0; level <= BLK_DMA_TAG_MAX_DEPTH + 1; level++) {' \
	'	for (level = 0; level < 1; level++) {'

# the driver never unmaps
mutant finish-skips-driver tag-core-test '^not ok - driver-unmap-and-release-after-io-and-flush' \
	$core '	else
		tag->disk->fops->dma_tag_ops->unmap(tag->disk, tag);
	tag->priv = NULL;' '	tag->priv = NULL;'
mutant finish-skips-driver-stress stress-asan '^not ok - stress-no-mapping-left|released with [0-9]+ driver mappings' \
	$core '	else
		tag->disk->fops->dma_tag_ops->unmap(tag->disk, tag);
	tag->priv = NULL;' '	tag->priv = NULL;'

# del_gendisk() leaves the mappings to the owners
mutant del-disk-leaves-mappings tag-core-test '^not ok - del-disk-unmaps-at-once' \
	$core '		wait_for_completion(&tag->drained);
		blk_dma_tag_finish(dt, tag);
		WRITE_ONCE(tag->revoked, true);' \
	'		wait_for_completion(&tag->drained);
		list_del_init(&tag->node);
		WRITE_ONCE(tag->revoked, true);'

# disk_release() frees the state the tags still use (the old code)
mutant release-disk-frees-state tag-core-test '^not ok - disk-state-held-by-its-tags' \
	$core '	/* tags revoked but not yet freed by their owners hold it */
	blk_dma_tag_disk_put(dt);' \
	'	refcount_set(&dt->ref, 1);
	blk_dma_tag_disk_put(dt);'
mutant release-disk-frees-state-stress stress-asan 'heap-use-after-free' \
	$core '	/* tags revoked but not yet freed by their owners hold it */
	blk_dma_tag_disk_put(dt);' \
	'	refcount_set(&dt->ref, 1);
	blk_dma_tag_disk_put(dt);'

# a revoked tag lets go of the buffer when its disk goes
mutant revoke-puts-buf tag-core-test '^not ok - revoked-tag-holds-the-buffer' \
	$core '		blk_dma_tag_finish(dt, tag);
		WRITE_ONCE(tag->revoked, true);' \
	'		blk_dma_tag_finish(dt, tag);
		blk_dma_buf_put(tag->buf);
		WRITE_ONCE(tag->revoked, true);'

# a freed tag does not let go of its disk's state: never freed
mutant no-disk-put tag-core-test '^not ok - disk-state-freed-with-its-last-tag' \
	$core '	blk_dma_buf_put(buf);
	blk_dma_tag_disk_put(dt);' '	blk_dma_buf_put(buf);
	(void)dt;'
mutant no-disk-put-member tag-core-test '^not ok - member-state-freed-with-its-last-tag' \
	$core '	blk_dma_buf_put(buf);
	blk_dma_tag_disk_put(dt);' '	blk_dma_buf_put(buf);
	(void)dt;'

# members_left maps, members_changed does not, or waits for a grace period
mutant members-left-maps tag-core-test '^not ok - members-left-maps-nothing' \
	$core '		__blk_dma_tag_members_changed(dt, false);' \
	'		__blk_dma_tag_members_changed(dt, true);'
mutant members-left-maps-stress stress-asan 'members_left\(\) mapped' \
	$core '		__blk_dma_tag_members_changed(dt, false);' \
	'		__blk_dma_tag_members_changed(dt, true);'
mutant members-changed-maps-nothing tag-core-test '^not ok - members-changed-maps-who-joined' \
	$core '		__blk_dma_tag_members_changed(dt, true);' \
	'		__blk_dma_tag_members_changed(dt, false);'
mutant members-changed-synchronize-rcu tag-core-test '^not ok - membership-changes-wait-for-no-grace-period' \
	$core '	blk_dma_tag_remap_all(dt, map_new);
	mutex_unlock(&dt->lock);' '	blk_dma_tag_remap_all(dt, map_new);
	synchronize_rcu();
	mutex_unlock(&dt->lock);'

# members_joined maps on the resuming thread, maps nothing, or its work
# outlives the disk
mutant members-joined-maps-on-caller tag-core-test '^not ok - members-joined-maps-nothing-itself' \
	$core '	if (!queue_work(system_unbound_wq, &dt->remap_work))
		blk_dma_tag_disk_put(dt);' \
	'	__blk_dma_tag_members_changed(dt, true);
	blk_dma_tag_disk_put(dt);'
mutant members-joined-maps-nothing tag-core-test '^not ok - members-joined-maps-in-the-background' \
	$core '	__blk_dma_tag_members_changed(dt, true);
	/* the reference' \
	'	__blk_dma_tag_members_changed(dt, false);
	/* the reference'
# the queued remap holds no reference on the state it runs on
mutant remap-work-takes-no-ref tag-core-test 'heap-use-after-free|refcount_t|WARN_ON_ONCE\(!mtree_empty|^not ok - del-disk-cancels-a-queued-remap' \
	$core '	refcount_inc(&dt->ref);
	if (!queue_work(' '	if (!queue_work('

# the member tags that leave are never unmapped
mutant dropped-member-kept tag-core-test '^not ok - member-tag-unmapped-after-its-io' \
	$core '		if (old->m[i].tag && !blk_dma_tag_in_table(new, old->m[i].tag))
			blk_dma_tag_unmap(old->m[i].tag);' \
	'		if (old->m[i].tag && !blk_dma_tag_in_table(new, old->m[i].tag))
			(void)0;'

# no noio scope for composite maps or membership changes
mutant composite-map-may-do-io tag-core-test '^not ok - composite-maps-members-without-io' \
	$core '	noio = memalloc_noio_save();
	mutex_lock_nested(&dt->lock, depth);' '	mutex_lock_nested(&dt->lock, depth);'
mutant members-changed-may-do-io tag-core-test '^not ok - allocations-under-tag-locks-do-no-io' \
	$core '	noio = memalloc_noio_save();
	mutex_lock(&dt->lock);' '	noio = 0;
	mutex_lock(&dt->lock);'
# ... or for a leaf map on a member of a suspended S, or the retire worker
# the leaf map's noio scope only for composite maps, as first written
leaf_noio_args() {
	mutant "$@" \
		$core '	noio = memalloc_noio_save();
	mutex_lock_nested(&dt->lock, depth);' \
	'	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		noio = memalloc_noio_save();
	mutex_lock_nested(&dt->lock, depth);' \
		$core '	refcount_inc(&buf->ref);
	mutex_unlock(&dt->lock);
	memalloc_noio_restore(noio);' '	refcount_inc(&buf->ref);
	mutex_unlock(&dt->lock);
	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		memalloc_noio_restore(noio);' \
		$core 'out_unlock:
	mutex_unlock(&dt->lock);
	memalloc_noio_restore(noio);' 'out_unlock:
	mutex_unlock(&dt->lock);
	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		memalloc_noio_restore(noio);'
}
tries=3 leaf_noio_args leaf-map-may-do-io stress-asan 'may do IO under .* tag lock while S is suspended'
leaf_noio_args leaf-map-may-do-io-model tag-core-test '^not ok - allocations-under-tag-locks-do-no-io'
# (the erase from the lookup tree has a scope of its own, for del_gendisk():
# both go, and then that scope alone)
worker_scope='	noio = memalloc_noio_save();
	llist_for_each_entry(tag, list, retire) {'
no_worker_scope='	noio = 0;
	llist_for_each_entry(tag, list, retire) {'
unindex_scope='		noio = memalloc_noio_save();
		WARN_ON_ONCE(mtree_store_range('
no_unindex_scope='		noio = 0;
		WARN_ON_ONCE(mtree_store_range('
tries=3 mutant worker-may-do-io stress-asan 'may do IO under .* tag lock while S is suspended \(retire worker\)' \
	$core "$worker_scope" "$no_worker_scope" $core "$unindex_scope" "$no_unindex_scope"
mutant worker-may-do-io-model tag-core-test '^not ok - allocations-under-tag-locks-do-no-io' \
	$core "$worker_scope" "$no_worker_scope" $core "$unindex_scope" "$no_unindex_scope"
mutant unindex-may-do-io tag-core-test '^not ok - allocations-under-tag-locks-do-no-io' \
	$core "$unindex_scope" "$no_unindex_scope"
# ... and an error path that leaves the scope open
mutant map-error-leaves-noio tag-core-test '^not ok - composite-map-errors-restore-noio' \
	$core 'out_unlock:
	mutex_unlock(&dt->lock);
	memalloc_noio_restore(noio);' 'out_unlock:
	mutex_unlock(&dt->lock);'

# one grace period per tag, or none at all
mutant gp-per-tag stress-asan '^not ok - batched-retirement-grace-periods' \
	$core '			blk_dma_tag_finish(dt, tag);
		mutex_unlock(&dt->lock);' '			blk_dma_tag_finish(dt, tag);
		mutex_unlock(&dt->lock);
		synchronize_rcu();'
mutant gp-none stress-asan '^not ok - batched-retirement-grace-periods' \
	$core '	/* lookups may still see the tags taken out of the indexes above */
	synchronize_rcu();' ''

# the retirement runs in the release callback: atomic context
mutant retire-in-atomic-context stress-asan 'sleeping function called from atomic context' \
	$core '		queue_work(system_unbound_wq, &blk_dma_tag_retire_work);' \
	'		blk_dma_tag_retire_fn(&blk_dma_tag_retire_work);'

# the stored tag of a range erased with the ones chained behind it
mutant chain-erased-with-head tag-core-test '^not ok - same-range-chain-finds-a-live-tag|WARN_ON_ONCE\(1\)' \
	$core '					       blk_dma_tag_last(tag), next,' \
	'					       blk_dma_tag_last(tag), NULL,'

# a retired tag left in the lookup tree: lookups find it freed
tries=3 mutant tag-left-in-index stress-asan 'heap-use-after-free' \
	$core '	blk_dma_tag_unindex(dt, tag);
	list_del_init(&tag->node);' '	(void)blk_dma_tag_unindex;
	list_del_init(&tag->node);'

exit $rc
