// SPDX-License-Identifier: GPL-2.0
/*
 * private_node_test - a private node owner for the selftests
 *
 * Turns a physical range that nothing onlined at boot into a private node,
 * and hands its pages to user space through /dev/private_node_test: every
 * page faulted into a MAP_SHARED mapping of the device is allocated with
 * GFP_PRIVATE on the private node, and freed when it is unmapped. This is
 * the "/dev/xxx" pattern a driver owning a private node would use.
 *
 * A second range can be hot-added as ordinary memory on another node: the
 * control that shows a test would see pages land on a node that is not
 * private.
 *
 * debugfs: /sys/kernel/debug/private_node_test/
 *   private, control  write "add" or "remove"; read "online" or "offline"
 *   counters          pages handed out, and the owner callbacks seen on
 *                     the private node: "allocated N\nfreed_folios N\n
 *                     freed_pages N\nsplit_new N\nsplit_done N\n";
 *                     write anything to reset them
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/node_private.h>
#include <linux/seq_file.h>
#include <linux/string.h>

static int private_nid = NUMA_NO_NODE;
module_param(private_nid, int, 0444);
MODULE_PARM_DESC(private_nid, "Node to make private");
static unsigned long long private_base;
module_param(private_base, ullong, 0444);
MODULE_PARM_DESC(private_base, "Physical base of the private range");
static unsigned long long private_size;
module_param(private_size, ullong, 0444);
MODULE_PARM_DESC(private_size, "Size of the private range in bytes");
static int control_nid = NUMA_NO_NODE;
module_param(control_nid, int, 0444);
MODULE_PARM_DESC(control_nid, "Node for the ordinary control range");
static unsigned long long control_base;
module_param(control_base, ullong, 0444);
MODULE_PARM_DESC(control_base, "Physical base of the control range");
static unsigned long long control_size;
module_param(control_size, ullong, 0444);
MODULE_PARM_DESC(control_size, "Size of the control range in bytes");

#define PNT_RESOURCE "System RAM (private_node_test)"

static DEFINE_MUTEX(pnt_lock);
static struct node_private pnt_owner;

/* What the owner hands out, and hears back through its callbacks. */
static atomic_long_t nr_allocated, nr_freed_folios, nr_freed_pages;
static atomic_long_t nr_split_new, nr_split_done;

static void pnt_free_folio(struct folio *folio)
{
	atomic_long_inc(&nr_freed_folios);
	atomic_long_add(folio_nr_pages(folio), &nr_freed_pages);
}

static void pnt_folio_split(struct folio *folio, struct folio *new_folio)
{
	atomic_long_inc(new_folio ? &nr_split_new : &nr_split_done);
}

static const struct node_private_ops pnt_ops = {
	.free_folio = pnt_free_folio,
	.folio_split = pnt_folio_split,
};

static bool private_online, control_online;
static struct dentry *pnt_dir;

static int private_add(void)
{
	int ret;

	if (private_online)
		return -EBUSY;
	ret = add_private_memory_driver_managed(private_nid, private_base,
						private_size, PNT_RESOURCE,
						MHP_NONE, MMOP_ONLINE_KERNEL,
						&pnt_owner);
	if (!ret) {
		ret = node_private_set_ops(private_nid, &pnt_ops);
		if (ret)
			WARN_ON(offline_and_remove_private_memory(private_nid,
								  private_base,
								  private_size));
	}
	/* Pin the module while it owns the node: its pnt_owner is in use. */
	if (!ret) {
		private_online = true;
		__module_get(THIS_MODULE);
	}
	return ret;
}

static int private_remove(void)
{
	int ret;

	if (!private_online)
		return -ENOENT;
	ret = offline_and_remove_private_memory(private_nid, private_base,
						private_size);
	if (!ret) {
		private_online = false;
		module_put(THIS_MODULE);
	}
	return ret;
}

/*
 * Ordinary driver-managed memory, onlined by the system's default policy:
 * the lab boots with memhp_default_state=online_kernel so that it lands in
 * ZONE_NORMAL like boot RAM and kernel allocations can use it.
 */
static int control_add(void)
{
	int ret;

	if (control_online)
		return -EBUSY;
	if (mhp_get_default_online_type() != MMOP_ONLINE_KERNEL) {
		pr_err("private_node_test: control needs memhp_default_state=online_kernel\n");
		return -EOPNOTSUPP;
	}
	ret = add_memory_driver_managed(control_nid, control_base,
					control_size, PNT_RESOURCE, MHP_NONE);
	if (!ret) {
		control_online = true;
		__module_get(THIS_MODULE);
	}
	return ret;
}

static int control_remove(void)
{
	int ret;

	if (!control_online)
		return -ENOENT;
	ret = offline_and_remove_memory(control_base, control_size);
	if (!ret) {
		control_online = false;
		module_put(THIS_MODULE);
	}
	return ret;
}

struct pnt_range {
	int (*add)(void);
	int (*remove)(void);
	bool *online;
};

static const struct pnt_range pnt_private = {
	private_add, private_remove, &private_online
};

static const struct pnt_range pnt_control = {
	control_add, control_remove, &control_online
};

static ssize_t range_read(struct file *file, char __user *buf, size_t len,
			  loff_t *ppos)
{
	const struct pnt_range *r = file->private_data;
	const char *state = READ_ONCE(*r->online) ? "online\n" : "offline\n";

	return simple_read_from_buffer(buf, len, ppos, state, strlen(state));
}

static ssize_t range_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	const struct pnt_range *r = file->private_data;
	char cmd[16];
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	strim(cmd);

	mutex_lock(&pnt_lock);
	if (!strcmp(cmd, "add"))
		ret = r->add();
	else if (!strcmp(cmd, "remove"))
		ret = r->remove();
	else
		ret = -EINVAL;
	mutex_unlock(&pnt_lock);
	return ret ? ret : len;
}

static int counters_show(struct seq_file *m, void *v)
{
	seq_printf(m, "allocated %ld\nfreed_folios %ld\nfreed_pages %ld\n",
		   atomic_long_read(&nr_allocated),
		   atomic_long_read(&nr_freed_folios),
		   atomic_long_read(&nr_freed_pages));
	seq_printf(m, "split_new %ld\nsplit_done %ld\n",
		   atomic_long_read(&nr_split_new),
		   atomic_long_read(&nr_split_done));
	return 0;
}

static int counters_open(struct inode *inode, struct file *file)
{
	return single_open(file, counters_show, NULL);
}

static ssize_t counters_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	atomic_long_set(&nr_allocated, 0);
	atomic_long_set(&nr_freed_folios, 0);
	atomic_long_set(&nr_freed_pages, 0);
	atomic_long_set(&nr_split_new, 0);
	atomic_long_set(&nr_split_done, 0);
	return len;
}

static const struct file_operations counters_fops = {
	.owner = THIS_MODULE,
	.open = counters_open,
	.read = seq_read,
	.write = counters_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static const struct file_operations range_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = range_read,
	.write = range_write,
	.llseek = default_llseek,
};

static vm_fault_t pnt_fault(struct vm_fault *vmf)
{
	struct page *page;
	vm_fault_t ret;

	/* No private node (removed, or never added): nothing to hand out. */
	if (!node_state(private_nid, N_MEMORY_PRIVATE))
		return VM_FAULT_SIGBUS;
	page = alloc_pages_node(private_nid, GFP_HIGHUSER | GFP_PRIVATE |
				__GFP_ZERO | __GFP_NOWARN, 0);
	if (!page)
		return VM_FAULT_SIGBUS;
	atomic_long_inc(&nr_allocated);
	/* The mapping takes its own reference; the PTE owns the page now. */
	ret = vmf_insert_page_mkwrite(vmf, page, vmf->flags & FAULT_FLAG_WRITE);
	put_page(page);
	return ret;
}

static const struct vm_operations_struct pnt_vm_ops = {
	.fault = pnt_fault,
};

static int pnt_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND);
	vma->vm_ops = &pnt_vm_ops;
	return 0;
}

static const struct file_operations pnt_dev_fops = {
	.owner = THIS_MODULE,
	.mmap = pnt_mmap,
};

static struct miscdevice pnt_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "private_node_test",
	.fops = &pnt_dev_fops,
	.mode = 0666,
};

static int __init pnt_init(void)
{
	int ret;

	if (private_nid == NUMA_NO_NODE || !private_size) {
		pr_err("private_node_test: private_nid/private_base/private_size required\n");
		return -EINVAL;
	}
	ret = misc_register(&pnt_dev);
	if (ret)
		return ret;
	pnt_dir = debugfs_create_dir("private_node_test", NULL);
	debugfs_create_file("private", 0600, pnt_dir, (void *)&pnt_private,
			    &range_fops);
	debugfs_create_file("counters", 0600, pnt_dir, NULL, &counters_fops);
	if (control_nid != NUMA_NO_NODE && control_size)
		debugfs_create_file("control", 0600, pnt_dir,
				    (void *)&pnt_control, &range_fops);
	return 0;
}

/* Online ranges hold a module reference, so none is left here. */
static void __exit pnt_exit(void)
{
	debugfs_remove_recursive(pnt_dir);
	misc_deregister(&pnt_dev);
}

module_init(pnt_init);
module_exit(pnt_exit);
MODULE_DESCRIPTION("Private memory node test driver");
MODULE_LICENSE("GPL");
