/*
 * vnstat: a small network-stack-style module with per-vnet state, written the right way.
 *
 * Each vnet (the host's vnet0 and every VNET jail) has its own packet counter and TTL. The
 * counters are set up per vnet by a VNET_SYSINIT and torn down by a VNET_SYSUNINIT; code that
 * runs without a vnet (the callout) sets one with CURVNET_SET before touching V_ variables.
 */
#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/systm.h>
#include <net/vnet.h>
#include <net/if.h>

VNET_DEFINE_STATIC(int, vnstat_packets) = 0;
#define V_vnstat_packets VNET(vnstat_packets)
VNET_DEFINE_STATIC(int, vnstat_ttl) = 0;
#define V_vnstat_ttl VNET(vnstat_ttl)

static void
vnstat_init(const void *unused)
{
	V_vnstat_packets = 0;
	V_vnstat_ttl = 64;
}
VNET_SYSINIT(vnstat, SI_SUB_PROTO_DOMAIN, SI_ORDER_ANY, vnstat_init, NULL);

static void
vnstat_uninit(const void *unused)
{
	printf("vnstat: vnet teardown, %d packets\n", V_vnstat_packets);
}
VNET_SYSUNINIT(vnstat, SI_SUB_PROTO_DOMAIN, SI_ORDER_ANY, vnstat_uninit, NULL);

/* Packet input in the caller's vnet (a socket or a driver has set curvnet). */
void
vnstat_input(void *arg)
{
	int n = (int)(long)arg;

	V_vnstat_packets += n;
	printf("vnstat: input %d, now %d packets\n", n, V_vnstat_packets);
}

/* A reader in the caller's vnet. */
void
vnstat_report(void *arg)
{
	printf("vnstat: %d packets, ttl %d\n", V_vnstat_packets, V_vnstat_ttl);
}

/* A callout: runs with no vnet, so it sets one first. */
void
vnstat_tick(void *arg)
{
	CURVNET_SET(vnet0);
	V_vnstat_ttl--;
	(void)ifunit("lo0");
	CURVNET_RESTORE();
}
