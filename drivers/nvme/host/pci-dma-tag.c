// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-pci: buffers premapped once (DMA tags), commands built from them with
 * no per-IO DMA mapping.
 *
 * See Documentation/block/dma-tags.rst.
 */

#include <linux/blk-mq.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "nvme.h"
#include "pci-dma-tag.h"

/**
 * DOC: one mapping per buffer
 *
 * A buffer is mapped once per DMA device, with one dma_map_sgtable() of a
 * scatterlist that has one entry per physically contiguous run of its pages.
 * Under dma-iommu that is one IOVA range, page table entries for every page
 * and at most one IOTLB flush (on unmap; at map only where the IOMMU caches
 * non-present entries); the result is a single DMA segment (IOVA ranges are
 * naturally aligned: more only for a buffer of 4 GiB or more, at the device's
 * segment boundary). Under dma-direct each run is a segment of its own.
 *
 * When the buffer is a single DMA segment and the controller takes SGLs, an
 * IO of more than two pages, of any size and offset, is one SGL data block
 * descriptor in the command: an address and a length, nothing else to build
 * and nothing for the controller to fetch. Smaller IOs take PRP1 and PRP2, as
 * the driver's own single-segment path does. Page addresses are computed
 * from the segment's base.
 *
 * Otherwise (no SGLs, several segments) IOs of three pages or more use PRP
 * lists built once: every page of the buffer has an entry, and the last entry
 * of each full list page points to the next list page, as the specification
 * asks. An IO points PRP2 at its second page's entry, in the middle of a list
 * page if need be.
 *
 * One case does not fit: when the IO's last entry would fall in the last slot
 * of a list page, the controller reads that slot as data, but a prebuilt list
 * has the chain pointer there (and the data entry at the top of the next list
 * page). So a buffer of more than one list page of entries has a second set
 * of lists, shifted by half a list page; an IO's last entry cannot sit at the
 * top of a list page in both, and the IO takes the set where it does not. A
 * smaller buffer has one list, no chain slot and no second set. No PRP list is
 * ever allocated per IO. A single-segment buffer mapped for SGLs has no lists:
 * should SGLs be switched off later (sgl_threshold=0), its IOs of three pages
 * or more are mapped per IO, and counted as fallbacks.
 *
 * Memory: the scatterlist (32 bytes per run of pages, kept for the unmap),
 * and where PRP lists are needed, lists sized to the buffer (a list shorter
 * than a page is a power-of-two kmalloc() object, so it never crosses a page)
 * and mapped for the device to read; 8 bytes per page, 16 with the second
 * set. The page addresses are read back from the first set of lists rather
 * than kept twice. All of it is charged to the memory cgroup of the task
 * that maps.
 */

/* data entries per PRP list page; the last slot chains */
#define NVME_DT_PRPS_PER_PAGE	(NVME_CTRL_PAGE_SIZE / sizeof(__le64) - 1)
#define NVME_DT_LAYOUTS		2

/**
 * struct nvme_dma_map - the mapping of a leaf tag on nvme-pci
 * @next: the next mapping of the same bvec array (another device, or
 *	another length) in nvme_dt_maps
 * @dev: the DMA device it is mapped for
 * @bvec: the buffer it maps (the tags' bvec array)
 * @nr_bvecs: entries in @bvec
 * @users: tags sharing it (namespaces of one controller)
 * @first_off: offset of the buffer in its first page
 * @nr_pages: pages the buffer spans
 * @sgt: the buffer's pages, mapped with dma_map_sgtable()
 * @sgt_mapped: @sgt is mapped (what to unmap on failure)
 * @one_seg: @sgt mapped to a single DMA segment
 * @base: then the DMA address of the buffer's first page
 * @addr: otherwise, DMA address of each page, for a buffer of at most two pages
 * @nr_layouts: sets of PRP lists: 0 (none), 1, or 2
 * @nr_lists: list pages of each set
 * @list_size: bytes of each list page (less than a page for a single one)
 * @lists_ready: list pages of each set allocated and mapped
 * @list: virtual addresses of the list pages, per set
 * @list_dma: their DMA addresses
 * @one_list: storage for @list when a set has a single list page
 * @one_list_dma: storage for @list_dma then
 */
struct nvme_dma_map {
	struct nvme_dma_map *next;
	struct device *dev;
	const struct bio_vec *bvec;
	unsigned int nr_bvecs;
	unsigned int users;
	unsigned int first_off;
	unsigned int nr_pages;
	struct sg_table sgt;
	bool sgt_mapped;
	bool one_seg;
	dma_addr_t base;
	dma_addr_t addr[2];
	unsigned int nr_layouts;
	unsigned int nr_lists[NVME_DT_LAYOUTS];
	unsigned int list_size;
	unsigned int lists_ready[NVME_DT_LAYOUTS];
	__le64 **list[NVME_DT_LAYOUTS];
	dma_addr_t *list_dma[NVME_DT_LAYOUTS];
	__le64 *one_list[NVME_DT_LAYOUTS];
	dma_addr_t one_list_dma[NVME_DT_LAYOUTS];
};

/*
 * Mappings live per (DMA device, buffer): tags of several namespaces of one
 * controller for one buffer share one. They are found by the address of the
 * bvec array, in a maple tree whose entry is the first of the mappings of
 * that array (one per device it is mapped for, chained by @next): a map or
 * an unmap costs O(log N) in the number of buffers mapped, not a walk of
 * them all. The bvec array's address is a safe key although tags are
 * retired after their owner let go: every tag holds the owner's buffer
 * (struct blk_dma_buf) until it is freed, after its unmap here, so the array
 * cannot be freed and its address reused for another buffer while a mapping
 * of it is listed. Taken at map and unmap only, under nvme_dt_maps_lock.
 */
static DEFINE_MTREE(nvme_dt_maps);
static DEFINE_MUTEX(nvme_dt_maps_lock);

/* slot shift of each layout */
static const unsigned int nvme_dt_shift[NVME_DT_LAYOUTS] = {
	0, NVME_DT_PRPS_PER_PAGE / 2,
};

/*
 * A mapping made once is only good where no IO needs bouncing or cache
 * maintenance: a coherent device, trusted (dma-iommu bounces for untrusted
 * ones), and either dma-direct without forced bouncing (each page is checked
 * for dma_need_sync() as it is mapped) or dma-iommu, recognised by the DMA
 * domain it uses (the only dma_map_ops that x86 and arm64 install for a
 * device in a DMA domain). Any other dma_map_ops (Xen's swiotlb, say) may
 * bounce.
 */
static bool nvme_dt_device_refused(struct device *dev)
{
	struct iommu_domain *domain;

	if (!dev_is_dma_coherent(dev))
		return true;
	if (dev_is_pci(dev) && to_pci_dev(dev)->untrusted)
		return true;
	if (!get_dma_ops(dev))
		return is_swiotlb_force_bounce(dev);
	domain = iommu_get_domain_for_dev(dev);
	return !domain || !iommu_is_dma_domain(domain);
}

/*
 * The pages of the buffer in order: interior pages must be whole, as in any
 * io_uring registered buffer.
 */
static int nvme_dt_count_pages(const struct blk_dma_tag *tag,
			       unsigned int *nr_pages)
{
	unsigned int i, n = 0;

	for (i = 0; i < tag->nr_bvecs; i++) {
		const struct bio_vec *bv = &tag->bvec[i];
		unsigned int off = bv->bv_offset & ~PAGE_MASK;

		if (i > 0 && off)
			return -EINVAL;
		if (i < tag->nr_bvecs - 1 &&
		    ((bv->bv_offset + bv->bv_len) & ~PAGE_MASK))
			return -EINVAL;
		n += DIV_ROUND_UP(off + bv->bv_len, PAGE_SIZE);
	}
	*nr_pages = n;
	return 0;
}

/* the list slot of page @page in @layout */
static __le64 *nvme_dt_slot(const struct nvme_dma_map *m, unsigned int layout,
			    unsigned int page)
{
	unsigned int v = page + nvme_dt_shift[layout];

	return &m->list[layout][v / NVME_DT_PRPS_PER_PAGE]
			       [v % NVME_DT_PRPS_PER_PAGE];
}

/* the DMA address of page @p of the buffer */
static dma_addr_t nvme_dt_addr(const struct nvme_dma_map *m, unsigned int p)
{
	if (m->one_seg)
		return m->base + (dma_addr_t)p * PAGE_SIZE;
	if (!m->nr_layouts)
		return m->addr[p];
	return le64_to_cpu(*nvme_dt_slot(m, 0, p));
}

static void nvme_dt_free(struct device *dev, struct nvme_dma_map *m)
{
	unsigned int l, i;

	if (m->sgt_mapped)
		dma_unmap_sgtable(dev, &m->sgt, DMA_BIDIRECTIONAL,
				  DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(&m->sgt);
	for (l = 0; l < m->nr_layouts; l++) {
		for (i = 0; i < m->lists_ready[l]; i++) {
			dma_unmap_single(dev, m->list_dma[l][i], m->list_size,
					 DMA_TO_DEVICE);
			kfree(m->list[l][i]);
		}
		if (m->list[l] != &m->one_list[l]) {
			kvfree(m->list[l]);
			kvfree(m->list_dma[l]);
		}
	}
	kfree(m);
}

/*
 * The PRP lists, mapped for the device before anything is written in them
 * (nvme_dt_build_lists() syncs them once filled).
 */
static int nvme_dt_alloc_lists(struct device *dev, struct nvme_dma_map *m)
{
	unsigned int l, i;

	/* a single list page has no chain slot: only the first set */
	m->nr_layouts = m->nr_pages > NVME_DT_PRPS_PER_PAGE ? 2 : 1;
	m->list_size = m->nr_layouts > 1 ? NVME_CTRL_PAGE_SIZE :
		       roundup_pow_of_two(m->nr_pages * sizeof(__le64));
	for (l = 0; l < m->nr_layouts; l++) {
		unsigned int nr = DIV_ROUND_UP(m->nr_pages + nvme_dt_shift[l],
					       NVME_DT_PRPS_PER_PAGE);

		m->nr_lists[l] = nr;
		if (nr == 1) {
			m->list[l] = &m->one_list[l];
			m->list_dma[l] = &m->one_list_dma[l];
		} else {
			m->list[l] = kvcalloc(nr, sizeof(*m->list[l]),
					      BLK_DMA_TAG_GFP);
			m->list_dma[l] = kvcalloc(nr, sizeof(*m->list_dma[l]),
						  BLK_DMA_TAG_GFP);
			if (!m->list[l] || !m->list_dma[l])
				return -ENOMEM;
		}
		for (i = 0; i < nr; i++) {
			__le64 *list = kzalloc(m->list_size, BLK_DMA_TAG_GFP);
			dma_addr_t a;

			if (!list)
				return -ENOMEM;
			/*
			 * Filled afterwards, then synced: nothing to sync for
			 * the CPU on the coherent devices accepted here.
			 */
			a = dma_map_single(dev, list, m->list_size,
					   DMA_TO_DEVICE);
			if (dma_mapping_error(dev, a)) {
				kfree(list);
				return -ENOMEM;
			}
			m->list[l][i] = list;
			m->list_dma[l][i] = a;
			m->lists_ready[l]++;
			/* beyond the DMA mask, dma-direct bounces it */
			if (!get_dma_ops(dev) && dma_need_sync(dev, a))
				return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* the PRP list entry of page @page in @layout */
static dma_addr_t nvme_dt_entry(const struct nvme_dma_map *m,
				unsigned int layout, unsigned int page)
{
	unsigned int v = page + nvme_dt_shift[layout];

	return m->list_dma[layout][v / NVME_DT_PRPS_PER_PAGE] +
	       (v % NVME_DT_PRPS_PER_PAGE) * sizeof(__le64);
}

/* chain pointers, the second set, and hand the lists to the device */
static void nvme_dt_build_lists(struct device *dev, struct nvme_dma_map *m)
{
	unsigned int l, i, q;

	for (l = 0; l < m->nr_layouts; l++) {
		for (i = 0; i + 1 < m->nr_lists[l]; i++)
			m->list[l][i][NVME_DT_PRPS_PER_PAGE] =
				cpu_to_le64(m->list_dma[l][i + 1]);
		for (q = 0; l && q < m->nr_pages; q++)
			*nvme_dt_slot(m, l, q) = *nvme_dt_slot(m, 0, q);
		for (i = 0; i < m->nr_lists[l]; i++)
			dma_sync_single_for_device(dev, m->list_dma[l][i],
						   m->list_size,
						   DMA_TO_DEVICE);
	}
}

/*
 * The scatterlist of the buffer, one entry per physically contiguous run of
 * its pages, cut where the device's segment size or boundary asks (dma-direct
 * hands the runs to the device as they are). With @sgl NULL, only count the
 * entries.
 */
static unsigned int nvme_dt_fill_sg(struct device *dev,
				    const struct blk_dma_tag *tag,
				    struct scatterlist *sgl)
{
	unsigned int max_seg = clamp_t(unsigned int,
				       dma_get_max_seg_size(dev) & PAGE_MASK,
				       PAGE_SIZE, SZ_2G);
	u64 boundary = dma_get_seg_boundary(dev);
	struct scatterlist *sg = NULL;
	phys_addr_t end = 0;
	unsigned int i, n = 0, cur = 0;

	for (i = 0; i < tag->nr_bvecs; i++) {
		const struct bio_vec *bv = &tag->bvec[i];
		phys_addr_t phys = page_to_phys(bv->bv_page) + bv->bv_offset;
		unsigned int done = 0;

		while (done < bv->bv_len) {
			phys_addr_t at = phys + done;
			u64 room = boundary - (at & boundary) + 1;
			unsigned int len = bv->bv_len - done;

			/* room is 0 only for an all-ones mask at address 0 */
			if (room && room < len)
				len = room;
			/*
			 * @cur counts from the start of the entry's first
			 * page: an entry cut at max_seg ends on a page
			 * boundary, and the next starts on one
			 */
			if (n && at == end && cur < max_seg &&
			    (at & boundary)) {
				len = min(len, max_seg - cur);
				cur += len;
				if (sgl)
					sg->length += len;
			} else {
				len = min_t(unsigned int, len,
					    max_seg - offset_in_page(at));
				cur = offset_in_page(at) + len;
				n++;
				if (sgl) {
					sg = sg ? sg_next(sg) : sgl;
					sg_set_page(sg,
						    pfn_to_page(PHYS_PFN(at)),
						    len, offset_in_page(at));
				}
			}
			done += len;
			end = phys + done;
		}
	}
	return n;
}

/* page @p of the buffer is at @a for the device */
static void nvme_dt_set_addr(struct nvme_dma_map *m, unsigned int p,
			     dma_addr_t a)
{
	if (m->nr_layouts)
		*nvme_dt_slot(m, 0, p) = cpu_to_le64(a);
	else
		m->addr[p] = a;
}

/*
 * Check the DMA segments of the mapped buffer: whole pages but for the
 * buffer's own start and end, nothing bounced. With @set, write the page
 * addresses into @m->addr or the first set of PRP lists.
 */
static int nvme_dt_walk_segs(struct device *dev, struct nvme_dma_map *m,
			     bool set)
{
	unsigned int i, q, p = 0, nents = m->sgt.nents;
	struct scatterlist *sg;

	for_each_sgtable_dma_sg(&m->sgt, sg, i) {
		unsigned int off = i ? 0 : m->first_off;
		unsigned int len = sg_dma_len(sg);
		dma_addr_t a = sg_dma_address(sg) - off;

		/* dma-direct: a segment beyond the DMA mask was bounced */
		if (!get_dma_ops(dev) && dma_need_sync(dev, a + off))
			return -EOPNOTSUPP;
		if ((a & ~PAGE_MASK) ||
		    (i + 1 < nents && ((off + len) & ~PAGE_MASK)))
			return -EOPNOTSUPP;
		for (q = 0; q < DIV_ROUND_UP(off + len, PAGE_SIZE); q++, p++) {
			if (p >= m->nr_pages)
				return -EOPNOTSUPP;
			if (set)
				nvme_dt_set_addr(m, p,
						 a + (dma_addr_t)q * PAGE_SIZE);
			if (!(p % 4096))
				cond_resched();
		}
	}
	return p == m->nr_pages ? 0 : -EOPNOTSUPP;
}

/*
 * Map the buffer with one dma_map_sgtable(); work out whether it is one
 * segment, and where it is not (or SGLs are not to be used) give it PRP lists
 * or, for one or two pages, the page addresses.
 */
static int nvme_dt_map_buffer(struct device *dev, const struct blk_dma_tag *tag,
			      struct nvme_dma_map *m, bool sgl)
{
	int ret;

	ret = sg_alloc_table(&m->sgt, nvme_dt_fill_sg(dev, tag, NULL),
			     BLK_DMA_TAG_GFP);
	if (ret)
		return ret;
	nvme_dt_fill_sg(dev, tag, m->sgt.sgl);
	/*
	 * dma-direct fails only where it would bounce a run (beyond the DMA
	 * mask, too long for swiotlb): a device that cannot premap, quietly
	 */
	if (dma_map_sgtable(dev, &m->sgt, DMA_BIDIRECTIONAL,
			    DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_NO_WARN))
		return get_dma_ops(dev) ? -ENOMEM : -EOPNOTSUPP;
	m->sgt_mapped = true;
	m->one_seg = m->sgt.nents == 1;
	if (m->one_seg)
		m->base = sg_dma_address(m->sgt.sgl) - m->first_off;
	/* one segment: SGLs need no list, and PRP1/PRP2 follow from the base */
	if (m->nr_pages > 2 && !(m->one_seg && sgl)) {
		ret = nvme_dt_alloc_lists(dev, m);
		if (ret)
			return ret;
	}
	/* one walk: check the segments, and write what is not computed */
	ret = nvme_dt_walk_segs(dev, m, !m->one_seg || m->nr_layouts);
	if (ret)
		return ret;
	nvme_dt_build_lists(dev, m);
	return 0;
}

static int nvme_dt_new_map(struct device *dev, struct blk_dma_tag *tag,
			   unsigned int nr_pages, bool sgl,
			   struct nvme_dma_map *head);

/**
 * nvme_pci_dma_tag_map() - premap a buffer for an NVMe controller
 * @dev: the controller's DMA device
 * @tag: the tag; its mapping goes to @tag->priv
 * @sgl: the controller's IO queues take SGLs (and the driver uses them)
 *
 * Namespaces of one controller share the mapping of a buffer: a second tag
 * for the same buffer and device takes a reference on the first one's.
 *
 * Context: process context.
 * Return: 0; -EOPNOTSUPP when the device needs bouncing or per-IO syncs;
 * -EINVAL when the buffer's interior pages are not whole pages; -ENOMEM.
 */
int nvme_pci_dma_tag_map(struct device *dev, struct blk_dma_tag *tag, bool sgl)
{
	unsigned long page_size = PAGE_SIZE;
	struct nvme_dma_map *head, *m;
	unsigned int nr_pages;
	int ret = 0;

	/* the prebuilt lists hold one entry per CPU page */
	if (nvme_dt_device_refused(dev) || page_size != NVME_CTRL_PAGE_SIZE)
		return -EOPNOTSUPP;
	ret = nvme_dt_count_pages(tag, &nr_pages);
	if (ret)
		return ret;

	mutex_lock(&nvme_dt_maps_lock);
	head = mtree_load(&nvme_dt_maps, (unsigned long)tag->bvec);
	for (m = head; m; m = m->next) {
		if (m->dev == dev && m->nr_bvecs == tag->nr_bvecs) {
			m->users++;
			tag->priv = m;
			goto out_unlock;
		}
	}
	ret = nvme_dt_new_map(dev, tag, nr_pages, sgl, head);
out_unlock:
	mutex_unlock(&nvme_dt_maps_lock);
	return ret;
}

/* a new mapping, in front of @head, the other mappings of the bvec array */
static int nvme_dt_new_map(struct device *dev, struct blk_dma_tag *tag,
			   unsigned int nr_pages, bool sgl,
			   struct nvme_dma_map *head)
{
	struct nvme_dma_map *m;
	int ret;

	m = kzalloc(sizeof(*m), BLK_DMA_TAG_GFP);
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->bvec = tag->bvec;
	m->nr_bvecs = tag->nr_bvecs;
	m->users = 1;
	m->first_off = tag->bvec[0].bv_offset & ~PAGE_MASK;
	m->nr_pages = nr_pages;
	ret = nvme_dt_map_buffer(dev, tag, m, sgl);
	if (ret) {
		nvme_dt_free(dev, m);
		return ret;
	}
	m->next = head;
	ret = mtree_store(&nvme_dt_maps, (unsigned long)m->bvec, m,
			  BLK_DMA_TAG_GFP);
	if (ret) {
		nvme_dt_free(dev, m);
		return ret;
	}
	tag->priv = m;
	return 0;
}

/*
 * Take @m out of nvme_dt_maps. Replacing the tree's entry by the next
 * mapping of the array allocates nothing; erasing it may allocate a node,
 * and must not fail, since @m is freed next. Without IO: del_gendisk() may
 * unmap with the disk's tag lock held.
 */
static void nvme_dt_forget(struct nvme_dma_map *m)
{
	unsigned long key = (unsigned long)m->bvec;
	struct nvme_dma_map *head = mtree_load(&nvme_dt_maps, key), *prev;

	lockdep_assert_held(&nvme_dt_maps_lock);
	if (head == m) {
		WARN_ON_ONCE(mtree_store(&nvme_dt_maps, key, m->next,
					 GFP_NOIO | __GFP_NOFAIL));
		return;
	}
	for (prev = head; prev; prev = prev->next) {
		if (prev->next == m) {
			prev->next = m->next;
			return;
		}
	}
	WARN_ON_ONCE(1);
}

/**
 * nvme_pci_dma_tag_unmap() - undo nvme_pci_dma_tag_map()
 * @dev: the controller's DMA device
 * @tag: the tag; no IO carries it any more
 */
void nvme_pci_dma_tag_unmap(struct device *dev, struct blk_dma_tag *tag)
{
	struct nvme_dma_map *m = tag->priv;

	tag->priv = NULL;
	if (!m)
		return;
	mutex_lock(&nvme_dt_maps_lock);
	if (!--m->users) {
		nvme_dt_forget(m);
		nvme_dt_free(dev, m);
	}
	mutex_unlock(&nvme_dt_maps_lock);
}

/* PRP1 and PRP2 of an IO of @len bytes at byte @off of page @p */
static bool nvme_dt_setup_prps(const struct nvme_dma_map *m, unsigned int p,
			       unsigned int off, unsigned int len,
			       struct nvme_rw_command *cmd)
{
	unsigned int first = NVME_CTRL_PAGE_SIZE - off;
	unsigned int k, l, vs, ve;

	k = len <= first ? 0 : DIV_ROUND_UP(len - first, NVME_CTRL_PAGE_SIZE);
	/* a single-segment buffer mapped for SGLs has no lists */
	if (k > 1 && !m->nr_layouts)
		return false;
	cmd->dptr.prp1 = cpu_to_le64(nvme_dt_addr(m, p) + off);
	if (!k) {
		cmd->dptr.prp2 = 0;
		return true;
	}
	if (k == 1) {
		cmd->dptr.prp2 = cpu_to_le64(nvme_dt_addr(m, p + 1));
		return true;
	}
	/*
	 * Entries p + 1 .. p + k. Layout 0 fails when the last one is at the
	 * top of a list page that the IO reached through a chain pointer;
	 * layout 1 then has it in the middle of a list page.
	 */
	vs = (p + 1) / NVME_DT_PRPS_PER_PAGE;
	ve = p + k;
	l = !(ve % NVME_DT_PRPS_PER_PAGE) && ve / NVME_DT_PRPS_PER_PAGE != vs;
	cmd->dptr.prp2 = cpu_to_le64(nvme_dt_entry(m, l, p + 1));
	return true;
}

/**
 * __nvme_pci_dma_tag_setup() - build a read or write command from a tag
 * @req: the request; its bio carries a tag (nvme_pci_dma_tag_setup() checks)
 * @cmd: the command, its data pointer to fill
 * @sgl: SGLs may be used for this request (an IO queue of a controller
 *	that takes them, and the driver's sgl_threshold not 0)
 *
 * A buffer mapped to one DMA segment gives an IO of more than two pages one
 * SGL data block descriptor; otherwise the IO gets PRP1 and PRP2, pointing
 * into the prebuilt lists for more than two pages.
 *
 * Context: the submission path; no allocation, no DMA mapping.
 * Return: true when @cmd is complete; false to map the request per IO.
 */
bool __nvme_pci_dma_tag_setup(struct request *req, struct nvme_rw_command *cmd,
			      bool sgl)
{
	struct bio *bio = req->bio;
	struct blk_dma_tag *tag = bio_dma_tag(bio);
	const struct nvme_dma_map *m;
	struct blk_dma_tag_loc loc;
	unsigned int len;
	u64 byte;

	m = tag->priv;
	len = blk_rq_bytes(req);
	if (!m || tag->kind != BLK_DMA_TAG_LEAF || tag->disk != req->q->disk ||
	    bio != req->biotail ||
	    (req->rq_flags & RQF_SPECIAL_PAYLOAD) ||
	    (req_op(req) != REQ_OP_READ && req_op(req) != REQ_OP_WRITE) ||
	    bio->bi_iter.bi_size != len || !blk_dma_tag_locate(tag, bio, &loc))
		goto fallback;

	byte = m->first_off + loc.pos;
	/* within two pages PRP1 and PRP2 are as short, and the common case */
	if (sgl && m->one_seg &&
	    (byte & ~PAGE_MASK) + len > 2 * NVME_CTRL_PAGE_SIZE) {
		cmd->flags = NVME_CMD_SGL_METABUF;
		/* the whole descriptor: its reserved bytes must be 0 */
		cmd->dptr.sgl = (struct nvme_sgl_desc) {
			.addr	= cpu_to_le64(m->base + byte),
			.length	= cpu_to_le32(len),
			.type	= NVME_SGL_FMT_DATA_DESC << 4,
		};
	} else if (!nvme_dt_setup_prps(m, byte >> PAGE_SHIFT,
				       byte & ~PAGE_MASK, len, cmd)) {
		goto fallback;
	}
	blk_dma_tag_account(req->q->disk, true);
	return true;

fallback:
	blk_dma_tag_account(req->q->disk, false);
	return false;
}
