/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme-pci: commands built from premapped buffers (DMA tags).
 * See Documentation/block/dma-tags.rst.
 */
#ifndef _NVME_PCI_DMA_TAG_H
#define _NVME_PCI_DMA_TAG_H

#include <linux/blk-dma-tag.h>
#include <linux/nvme.h>

struct device;
struct request;

#ifdef CONFIG_BLK_DMA_TAG
int nvme_pci_dma_tag_map(struct device *dev, struct blk_dma_tag *tag,
			 unsigned int sgl_min);
void nvme_pci_dma_tag_unmap(struct device *dev, struct blk_dma_tag *tag);
bool nvme_pci_dma_tag_setup(struct request *req, struct nvme_rw_command *cmd,
			    bool sgl);
#else
static inline bool nvme_pci_dma_tag_setup(struct request *req,
					  struct nvme_rw_command *cmd,
					  bool sgl)
{
	return false;
}
#endif

#endif /* _NVME_PCI_DMA_TAG_H */
