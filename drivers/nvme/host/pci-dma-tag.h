/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme-pci: commands built from premapped buffers (DMA tags).
 * See Documentation/block/dma-tags.rst.
 */
#ifndef _NVME_PCI_DMA_TAG_H
#define _NVME_PCI_DMA_TAG_H

#include <linux/blk-dma-tag.h>
#include <linux/blk-mq.h>
#include <linux/nvme.h>

struct device;

#ifdef CONFIG_BLK_DMA_TAG
int nvme_pci_dma_tag_map(struct device *dev, struct blk_dma_tag *tag, bool sgl);
void nvme_pci_dma_tag_unmap(struct device *dev, struct blk_dma_tag *tag);
bool __nvme_pci_dma_tag_setup(struct request *req, struct nvme_rw_command *cmd,
			      bool sgl);

/*
 * Per IO: a request whose bio carries no tag costs a test here, not a call
 * (see __nvme_pci_dma_tag_setup())
 */
static inline bool nvme_pci_dma_tag_setup(struct request *req,
					  struct nvme_rw_command *cmd,
					  bool sgl)
{
	if (!req->bio || !bio_dma_tag(req->bio))
		return false;
	return __nvme_pci_dma_tag_setup(req, cmd, sgl);
}
#else
static inline bool nvme_pci_dma_tag_setup(struct request *req,
					  struct nvme_rw_command *cmd,
					  bool sgl)
{
	return false;
}
#endif

#endif /* _NVME_PCI_DMA_TAG_H */
