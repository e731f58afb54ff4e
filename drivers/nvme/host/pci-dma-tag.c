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
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "nvme.h"
#include "pci-dma-tag.h"

/**
 * DOC: premapped PRP lists
 *
 * A buffer is mapped once, one DMA mapping per page. For the IOs that need a
 * PRP list (three pages or more) the lists are built once too: every page of
 * the buffer has an entry, and the last entry of each full list page points
 * to the next list page, as the specification asks. An IO points PRP2 at its
 * second page's entry, in the middle of a list page if need be.
 *
 * One case does not fit: when the IO's last entry would fall in the last slot
 * of a list page, the controller reads that slot as data, but a prebuilt list
 * has the chain pointer there (and the data entry at the top of the next list
 * page). So there are two sets of lists, the second shifted by half a list
 * page; an IO's last entry cannot sit at the top of a list page in both, and
 * the IO takes the set where it does not. No PRP list is ever allocated per
 * IO.
 *
 * With SGL support, an IO that starts and ends on page boundaries and is at
 * least the driver's SGL threshold uses a prebuilt array of one data
 * descriptor per page instead, pointed to by one Last Segment descriptor.
 */

/* data entries per PRP list page; the last slot chains */
#define NVME_DT_PRPS_PER_PAGE	(NVME_CTRL_PAGE_SIZE / sizeof(__le64) - 1)
#define NVME_DT_LAYOUTS		2

/**
 * struct nvme_dma_map - the mapping of a leaf tag on nvme-pci
 * @node: entry in nvme_dt_maps
 * @dev: the DMA device it is mapped for
 * @bvec: the buffer it maps (the tags' bvec array)
 * @nr_bvecs: entries in @bvec
 * @users: tags sharing it (namespaces of one controller)
 * @first_off: offset of the buffer in its first page
 * @nr_pages: pages the buffer spans
 * @addr: DMA address of each page
 * @nr_lists: PRP list pages of each layout
 * @list: virtual addresses of the list pages, per layout
 * @list_dma: their DMA addresses
 * @sgl: one data block descriptor per page, or NULL
 * @sgl_dma: DMA address of @sgl
 */
struct nvme_dma_map {
	struct list_head node;
	struct device *dev;
	const struct bio_vec *bvec;
	unsigned int nr_bvecs;
	unsigned int users;
	unsigned int first_off;
	unsigned int nr_pages;
	dma_addr_t *addr;
	unsigned int nr_lists[NVME_DT_LAYOUTS];
	__le64 **list[NVME_DT_LAYOUTS];
	dma_addr_t *list_dma[NVME_DT_LAYOUTS];
	struct nvme_sgl_desc *sgl;
	dma_addr_t sgl_dma;
};

/*
 * Mappings live per (DMA device, buffer): tags of several namespaces of one
 * controller for one buffer share one. Few entries; taken at map and unmap.
 * The bvec array's address is a safe key although tags are retired after
 * their owner let go: every tag holds the owner's buffer (struct
 * blk_dma_buf) until it is freed, after its unmap here, so the array cannot
 * be freed and its address reused for another buffer while a mapping of it
 * is listed.
 */
static LIST_HEAD(nvme_dt_maps);
static DEFINE_MUTEX(nvme_dt_maps_lock);

/* slot shift of each layout */
static const unsigned int nvme_dt_shift[NVME_DT_LAYOUTS] = {
	0, NVME_DT_PRPS_PER_PAGE / 2,
};

/*
 * Devices whose DMA needs bouncing or cache maintenance per IO cannot use a
 * mapping made once.
 */
static bool nvme_dt_device_refused(struct device *dev)
{
	if (!dev_is_dma_coherent(dev) || is_swiotlb_force_bounce(dev))
		return true;
	return dev_is_pci(dev) && to_pci_dev(dev)->untrusted;
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

static void nvme_dt_free(struct device *dev, struct nvme_dma_map *m,
			 unsigned int mapped)
{
	unsigned int l, i;

	if (m->sgl)
		dma_free_coherent(dev, m->nr_pages * sizeof(*m->sgl), m->sgl,
				  m->sgl_dma);
	for (l = 0; l < NVME_DT_LAYOUTS; l++) {
		for (i = 0; m->list[l] && i < m->nr_lists[l]; i++)
			if (m->list[l][i])
				dma_free_coherent(dev, NVME_CTRL_PAGE_SIZE,
						  m->list[l][i],
						  m->list_dma[l][i]);
		kvfree(m->list[l]);
		kvfree(m->list_dma[l]);
	}
	for (i = 0; i < mapped; i++)
		dma_unmap_page_attrs(dev, m->addr[i], PAGE_SIZE,
				     DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	kvfree(m->addr);
	kfree(m);
}

/* map every page of the buffer; returns the number mapped or an errno */
static int nvme_dt_map_pages(struct device *dev, const struct blk_dma_tag *tag,
			     struct nvme_dma_map *m)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < tag->nr_bvecs; i++) {
		const struct bio_vec *bv = &tag->bvec[i];
		unsigned int off = bv->bv_offset & ~PAGE_MASK;
		struct page *page = nth_page(bv->bv_page,
					     bv->bv_offset >> PAGE_SHIFT);

		for (j = 0; j < DIV_ROUND_UP(off + bv->bv_len, PAGE_SIZE);
		     j++) {
			dma_addr_t a;

			a = dma_map_page_attrs(dev, nth_page(page, j), 0,
					       PAGE_SIZE, DMA_BIDIRECTIONAL,
					       DMA_ATTR_SKIP_CPU_SYNC);
			if (dma_mapping_error(dev, a))
				return -ENOMEM;
			m->addr[n++] = a;
			m->nr_pages = n;	/* what to unmap on failure */
			/* direct mapping: a bounced page needs syncs */
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

static int nvme_dt_build_lists(struct device *dev, struct nvme_dma_map *m)
{
	unsigned int l, i, q;

	for (l = 0; l < NVME_DT_LAYOUTS; l++) {
		unsigned int nr = DIV_ROUND_UP(m->nr_pages + nvme_dt_shift[l],
					       NVME_DT_PRPS_PER_PAGE);

		m->list[l] = kvcalloc(nr, sizeof(*m->list[l]), GFP_KERNEL);
		m->list_dma[l] = kvcalloc(nr, sizeof(*m->list_dma[l]),
					  GFP_KERNEL);
		if (!m->list[l] || !m->list_dma[l])
			return -ENOMEM;
		m->nr_lists[l] = nr;
		for (i = 0; i < nr; i++) {
			m->list[l][i] = dma_alloc_coherent(dev,
							   NVME_CTRL_PAGE_SIZE,
							   &m->list_dma[l][i],
							   GFP_KERNEL);
			if (!m->list[l][i])
				return -ENOMEM;
		}
		for (i = 0; i + 1 < nr; i++)
			m->list[l][i][NVME_DT_PRPS_PER_PAGE] =
				cpu_to_le64(m->list_dma[l][i + 1]);
		for (q = 0; q < m->nr_pages; q++) {
			unsigned int v = q + nvme_dt_shift[l];

			m->list[l][v / NVME_DT_PRPS_PER_PAGE]
				[v % NVME_DT_PRPS_PER_PAGE] =
				cpu_to_le64(m->addr[q]);
		}
	}
	return 0;
}

/* descriptors for SGL; without them large IO uses the PRP lists */
static void nvme_dt_build_sgl(struct device *dev, struct nvme_dma_map *m)
{
	unsigned int q;

	m->sgl = dma_alloc_coherent(dev, m->nr_pages * sizeof(*m->sgl),
				    &m->sgl_dma, GFP_KERNEL | __GFP_NOWARN);
	if (!m->sgl)
		return;
	for (q = 0; q < m->nr_pages; q++) {
		m->sgl[q].addr = cpu_to_le64(m->addr[q]);
		m->sgl[q].length = cpu_to_le32(PAGE_SIZE);
		m->sgl[q].type = NVME_SGL_FMT_DATA_DESC << 4;
	}
}

static int nvme_dt_new_map(struct device *dev, struct blk_dma_tag *tag,
			   unsigned int nr_pages, bool sgl);

/**
 * nvme_pci_dma_tag_map() - premap a buffer for an NVMe controller
 * @dev: the controller's DMA device
 * @tag: the tag; its mapping goes to @tag->priv
 * @sgl: the controller takes SGLs
 *
 * Namespaces of one controller share the mapping of a buffer: a second tag
 * for the same buffer and device takes a reference on the first one's.
 *
 * Context: process context.
 * Return: 0; -EOPNOTSUPP when the device needs bouncing or per-IO syncs;
 * -EINVAL when the buffer's interior pages are not whole pages; -ENOMEM.
 */
int nvme_pci_dma_tag_map(struct device *dev, struct blk_dma_tag *tag,
			 bool sgl)
{
	unsigned long page_size = PAGE_SIZE;
	struct nvme_dma_map *m;
	unsigned int nr_pages;
	int ret = 0;

	/* the prebuilt lists hold one entry per CPU page */
	if (nvme_dt_device_refused(dev) || page_size != NVME_CTRL_PAGE_SIZE)
		return -EOPNOTSUPP;
	ret = nvme_dt_count_pages(tag, &nr_pages);
	if (ret)
		return ret;

	mutex_lock(&nvme_dt_maps_lock);
	list_for_each_entry(m, &nvme_dt_maps, node) {
		if (m->dev == dev && m->bvec == tag->bvec &&
		    m->nr_bvecs == tag->nr_bvecs) {
			m->users++;
			tag->priv = m;
			goto out_unlock;
		}
	}
	ret = nvme_dt_new_map(dev, tag, nr_pages, sgl);
out_unlock:
	mutex_unlock(&nvme_dt_maps_lock);
	return ret;
}

static int nvme_dt_new_map(struct device *dev, struct blk_dma_tag *tag,
			   unsigned int nr_pages, bool sgl)
{
	struct nvme_dma_map *m;
	int ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->bvec = tag->bvec;
	m->nr_bvecs = tag->nr_bvecs;
	m->users = 1;
	m->first_off = tag->bvec[0].bv_offset & ~PAGE_MASK;
	m->addr = kvcalloc(nr_pages, sizeof(*m->addr), GFP_KERNEL);
	if (!m->addr) {
		kfree(m);
		return -ENOMEM;
	}
	ret = nvme_dt_map_pages(dev, tag, m);
	if (!ret && nr_pages > 2)
		ret = nvme_dt_build_lists(dev, m);
	if (ret) {
		nvme_dt_free(dev, m, m->nr_pages);
		return ret;
	}
	if (sgl && nr_pages > 1)
		nvme_dt_build_sgl(dev, m);
	list_add(&m->node, &nvme_dt_maps);
	tag->priv = m;
	return 0;
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
		list_del(&m->node);
		nvme_dt_free(dev, m, m->nr_pages);
	}
	mutex_unlock(&nvme_dt_maps_lock);
}

static void nvme_dt_setup_prps(const struct nvme_dma_map *m, unsigned int p,
			       unsigned int off, unsigned int len,
			       struct nvme_rw_command *cmd)
{
	unsigned int first = NVME_CTRL_PAGE_SIZE - off;
	unsigned int k, l, vs, ve;

	cmd->dptr.prp1 = cpu_to_le64(m->addr[p] + off);
	if (len <= first) {
		cmd->dptr.prp2 = 0;
		return;
	}
	k = DIV_ROUND_UP(len - first, NVME_CTRL_PAGE_SIZE);
	if (k == 1) {
		cmd->dptr.prp2 = cpu_to_le64(m->addr[p + 1]);
		return;
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
}

/**
 * nvme_pci_dma_tag_setup() - build a read or write command from a tag
 * @req: the request; its single bio may carry a tag of this disk
 * @cmd: the command, its data pointer to fill
 * @sgl: SGLs may be used for this request (queue and size allow)
 *
 * Context: the submission path; no allocation, no DMA mapping.
 * Return: true when @cmd is complete; false to map the request per IO.
 */
bool nvme_pci_dma_tag_setup(struct request *req, struct nvme_rw_command *cmd,
			    bool sgl)
{
	struct bio *bio = req->bio;
	struct blk_dma_tag *tag = bio ? bio_dma_tag(bio) : NULL;
	const struct nvme_dma_map *m;
	struct blk_dma_tag_loc loc;
	unsigned int len, p, off;
	u64 byte;

	if (!tag)
		return false;
	m = tag->priv;
	len = blk_rq_bytes(req);
	if (!m || tag->kind != BLK_DMA_TAG_LEAF || tag->disk != req->q->disk ||
	    bio != req->biotail ||
	    (req->rq_flags & RQF_SPECIAL_PAYLOAD) ||
	    (req_op(req) != REQ_OP_READ && req_op(req) != REQ_OP_WRITE) ||
	    bio->bi_iter.bi_size != len || !blk_dma_tag_locate(tag, bio, &loc)) {
		blk_dma_tag_account(req->q->disk, false);
		return false;
	}

	byte = m->first_off + loc.pos;
	p = byte >> PAGE_SHIFT;
	off = byte & ~PAGE_MASK;
	if (sgl && m->sgl && !off && !(len & ~PAGE_MASK)) {
		unsigned int k = len >> PAGE_SHIFT;

		cmd->flags = NVME_CMD_SGL_METABUF;
		if (k == 1) {
			cmd->dptr.sgl = m->sgl[p];
		} else {
			cmd->dptr.sgl.addr = cpu_to_le64(m->sgl_dma +
							 p * sizeof(*m->sgl));
			cmd->dptr.sgl.length = cpu_to_le32(k * sizeof(*m->sgl));
			cmd->dptr.sgl.type = NVME_SGL_FMT_LAST_SEG_DESC << 4;
		}
	} else {
		nvme_dt_setup_prps(m, p, off, len, cmd);
	}
	blk_dma_tag_account(req->q->disk, true);
	return true;
}
