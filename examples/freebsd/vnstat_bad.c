/*
 * vnstat_bad: the same module with the classic VNET mistakes.
 *
 * 1. vnstat_init is a plain SYSINIT: it runs once, in vnet0, so jails never get their TTL.
 * 2. vnstat_rx returns through "goto err" past CURVNET_RESTORE (the iflib_rxeof bug): the
 *    thread keeps td_vnet set after it leaves the module.
 * 3. vnstat_tick is a callout that touches V_ state without CURVNET_SET: curvnet is NULL and
 *    the access faults at 0x28 (offsetof(struct vnet, vnet_data_base)).
 */
#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <net/vnet.h>

VNET_DEFINE_STATIC(int, vnstat_packets) = 0;
#define V_vnstat_packets VNET(vnstat_packets)
VNET_DEFINE_STATIC(int, vnstat_ttl) = 0;
#define V_vnstat_ttl VNET(vnstat_ttl)

static void
vnstat_init(void *unused)
{
	V_vnstat_ttl = 64;		/* mistake 1: vnet0 only */
}
SYSINIT(vnstat, SI_SUB_PROTO_DOMAIN, SI_ORDER_ANY, vnstat_init, NULL);

void
vnstat_report(void *arg)
{
	printf("vnstat: %d packets, ttl %d\n", V_vnstat_packets, V_vnstat_ttl);
}

void
vnstat_rx(void *arg)
{
	int n = (int)(long)arg;

	CURVNET_SET(vnet0);
	if (n < 0)
		goto err;		/* mistake 2: leaves without CURVNET_RESTORE */
	V_vnstat_packets += n;
	CURVNET_RESTORE();
	return;
err:
	printf("vnstat: bad packet\n");
}

void
vnstat_tick(void *arg)
{
	V_vnstat_packets = 0;		/* mistake 3: no CURVNET_SET in a callout */
}
