# shellcheck shell=bash
# The lab machine's QEMU arguments, built from qemu/machine.env. Sourced.
#
# Nodes 0 and 1: DRAM, 1 CPU each, booted normally.
# Nodes 2 and 3: no boot memory, only a pc-dimm each at a fixed address.
#   The DIMM is host RAM, so it runs at RAM speed (unlike CXL memory, which
#   TCG emulates as I/O). The guest kernel has CONFIG_ACPI_HOTPLUG_MEMORY
#   off, so nothing onlines the DIMM: the test driver hot-adds the range
#   itself, node 2 as the private node, node 3 as ordinary memory (the
#   control node that the tests compare against).
#   QEMU's SRAT gives the whole hotplug range [4G, 14G) to the last node
#   (3) and says nothing of node 2, so Linux would number PXM 3 as node 2.
#   Two never-present CPUs (maxcpus=4), one on each of nodes 2 and 3, put
#   both PXMs in the SRAT: guest node ids then equal QEMU's, and the CXL
#   window gets its own node (4). The guest never sees those CPUs (no
#   hotplug CPUs are counted), so nodes 2 and 3 stay CPU-less. The
#   driver must pass the nid to add_memory(): the SRAT maps both DIMMs
#   to node 3.
# CXL: one type-3 volatile device (256 MiB) behind a pxb-cxl host bridge
#   and a 4 GiB fixed memory window, as in shared/GUIDE.md.
#   With CXL_PHYSICAL_MB set, the device is compressed: QEMU gets a second
#   QMP socket for the device model (lab_model_args), which sends the
#   guest CXL event records through it, and a fourth serial port (ttyS3)
#   on which the guest's tests ask the model for its figures.
# LAB_QEMU_ACCEL replaces "tcg"; LAB_QEMU_EXTRA (words) is appended, e.g.
#   for the benchmark's instruction counting (scripts/bench.sh).

LAB_MACHINE_ENV=${LAB_MACHINE_ENV:-$(dirname "${BASH_SOURCE[0]}")/machine.env}

# lab_qemu_args ARRAY WORKDIR: fill ARRAY with the arguments; the CXL
# device's backing file goes in WORKDIR (a per-run directory).
lab_qemu_args() {
	local -n _args=$1
	local work=$2
	[ -d "$work" ] || { echo "lab_qemu_args: no directory $work" >&2; return 1; }
	# shellcheck source=machine.env
	. "$LAB_MACHINE_ENV"
	local dram=$LAB_DRAM_NODE_MB

	# shellcheck disable=SC2054 # commas are inside QEMU options
	_args=(
		-machine q35,cxl=on -accel "${LAB_QEMU_ACCEL:-tcg}"
		-cpu max,hypervisor=off
		# One socket per CPU: a shared LLC across nodes makes the kernel
		# WARN. CPUs 2 and 3 never come up (see the top).
		-smp 2,maxcpus=4,sockets=4,cores=1,threads=1
		-m "$((2 * dram))M,maxmem=8G,slots=4"
		-nographic -no-reboot -nic none
		# DRAM nodes.
		-object "memory-backend-ram,id=ram0,size=${dram}M"
		-object "memory-backend-ram,id=ram1,size=${dram}M"
		-numa node,nodeid=0,cpus=0,memdev=ram0
		-numa node,nodeid=1,cpus=1,memdev=ram1
		# Memoryless nodes, each with a DIMM nothing onlines at boot.
		-numa "node,nodeid=$PRIVATE_NID,cpus=2"
		-numa "node,nodeid=$CONTROL_NID,cpus=3"
		-object "memory-backend-ram,id=dimm-private,size=${PRIVATE_SIZE_MB}M"
		-device "pc-dimm,id=private,memdev=dimm-private,addr=$PRIVATE_BASE,node=$PRIVATE_NID"
		-object "memory-backend-ram,id=dimm-control,size=${CONTROL_DIMM_MB}M"
		-device "pc-dimm,id=control,memdev=dimm-control,addr=$CONTROL_BASE,node=$CONTROL_NID"
		# Distances: the DIMM nodes are farther than the other DRAM node.
		-numa dist,src=0,dst=1,val=20
		-numa "dist,src=0,dst=$PRIVATE_NID,val=30"
		-numa "dist,src=0,dst=$CONTROL_NID,val=30"
		-numa "dist,src=1,dst=$PRIVATE_NID,val=30"
		-numa "dist,src=1,dst=$CONTROL_NID,val=30"
		-numa "dist,src=$PRIVATE_NID,dst=$CONTROL_NID,val=30"
		# CXL type-3 volatile memory device.
		-object "memory-backend-file,id=cxl-mem0,share=on,mem-path=$work/cxl-mem0,size=256M"
		-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
		-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=2
		-device cxl-type3,bus=rp0,volatile-memdev=cxl-mem0,id=cxl-vmem0,sn=0x1234
		-machine cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
	)
	# The device model: its QMP socket, and the guest's line to it
	# (ttyS3: the lab's plans use ttyS0-2).
	[ -z "${CXL_PHYSICAL_MB:-}" ] ||
		_args+=(-qmp "unix:$work/model-qmp.sock,server=on,wait=off"
			-chardev "socket,id=model,path=$work/model-guest.sock,server=on,wait=off"
			-device isa-serial,chardev=model,index=3)
	# shellcheck disable=SC2206 # words on purpose
	[ -z "${LAB_QEMU_EXTRA:-}" ] || _args+=($LAB_QEMU_EXTRA)
}

# lab_model_args ARRAY WORKDIR LOGFILE: fill ARRAY with the device model's
# arguments for the machine lab_qemu_args made in WORKDIR (empty if the
# CXL device is not compressed).
lab_model_args() {
	local -n _margs=$1
	local work=$2 log=$3
	# shellcheck source=machine.env
	. "$LAB_MACHINE_ENV"
	_margs=()
	[ -n "${CXL_PHYSICAL_MB:-}" ] || return 0
	_margs=(--file "$work/cxl-mem0" --size 256M
		--capacity "${CXL_PHYSICAL_MB}M" --high "$CXL_HIGH_PCT"
		--low "$CXL_LOW_PCT" --qmp "$work/model-qmp.sock"
		--device /machine/peripheral/cxl-vmem0
		--guest "$work/model-guest.sock" --log "$log")
}
