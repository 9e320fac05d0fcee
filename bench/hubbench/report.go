package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Goals of jupygo hub.
const (
	goalSpawnMs     = 100
	goalHubProxyMiB = 30
	goalIdle30MiB   = 500
	goalProxyShare  = 0.5
	goalP99ms       = 5
)

// writeReport prints the version of configurable-http-proxy, then, for each
// pairing of hubs that the run measured, one table per phase with the second
// hub's figures as a ratio of the first's.
func writeReport(w io.Writer, r results) {
	if r.CHPVersion != "" {
		fmt.Fprintf(w, "configurable-http-proxy %s\n", r.CHPVersion)
	}
	byName := map[string]*hubResult{}
	for i := range r.Hubs {
		byName[r.Hubs[i].Name] = &r.Hubs[i]
	}
	pairings := []struct {
		title, left, right string
		goals              bool
	}{
		{"JupyterHub 3.0 with configurable-http-proxy against jupygo hub",
			jupyterhubName, jupygoName, true},
		{"JupyterHub 3.0 with configurable-http-proxy against JupyterHub 3.0 with jupygo proxy",
			jupyterhubName, jupyterhubJupygoProxyName, false},
	}
	for _, p := range pairings {
		left, right := byName[p.left], byName[p.right]
		if right == nil && (left == nil || p.right != jupygoName) {
			continue // a run of JupyterHub alone prints it in the first pairing
		}
		fmt.Fprintf(w, "\n== %s\n", p.title)
		writePairing(w, r, left, right, p.left, p.right, p.goals)
	}
}

// writePairing prints the tables of two hubs, either of which may be nil.
// With goals it adds the goals of jupygo hub.
func writePairing(w io.Writer, r results, py, gojo *hubResult, leftName, rightName string, goals bool) {
	ratio := func(get func(*hubResult) float64) string {
		if py == nil || gojo == nil || get(py) == 0 || get(gojo) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", get(gojo)/get(py))
	}
	cell := func(h *hubResult, get func(*hubResult) float64, format string) string {
		if h == nil || get(h) == 0 {
			return "-"
		}
		return fmt.Sprintf(format, get(h))
	}
	table := func(title string, rows [][]string) {
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\t%s\t%s\t%s/%s\tgoal\t\n", leftName, rightName, rightName, leftName)
		for _, row := range rows {
			for _, c := range row {
				fmt.Fprintf(tw, "%s\t", c)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	row := func(label string, get func(*hubResult) float64, format, goal string) []string {
		if !goals {
			goal = ""
		}
		return []string{label, cell(py, get, format), cell(gojo, get, format), ratio(get), goal}
	}

	table("Hub cold start (process start to first 200), ms", [][]string{
		row("cold start", func(h *hubResult) float64 { return h.ColdStart.Median }, "%.0f", ""),
	})
	table("Spawn (POST .../server until /user/NAME/api/status is 200 through the proxy), ms", [][]string{
		row("median", func(h *hubResult) float64 { return h.Spawn.Median }, "%.0f", fmt.Sprintf("< %d", goalSpawnMs)),
		row("max", func(h *hubResult) float64 { return h.Spawn.Max }, "%.0f", ""),
		row("servers", func(h *hubResult) float64 { return float64(h.Spawn.N) }, "%.0f", ""),
	})

	var memRows [][]string
	counts := map[int]bool{}
	for _, h := range r.Hubs {
		for _, m := range h.Memory {
			counts[m.Users] = true
		}
	}
	for _, users := range sortedKeys(counts) {
		mem := func(pick func(memorySample) int) func(*hubResult) float64 {
			return func(h *hubResult) float64 {
				for _, m := range h.Memory {
					if m.Users == users {
						return float64(pick(m)) / 1024
					}
				}
				return 0
			}
		}
		hubGoal, allGoal := "", ""
		if users == 0 {
			hubGoal = fmt.Sprintf("< %d", goalHubProxyMiB)
		}
		if users == 30 {
			allGoal = fmt.Sprintf("< %d", goalIdle30MiB)
		}
		memRows = append(memRows,
			row(fmt.Sprintf("%d users: hub + proxy", users), mem(func(m memorySample) int { return m.HubKiB + m.ProxyKiB }), "%.1f", hubGoal),
			row(fmt.Sprintf("%d users: proxy alone", users), mem(func(m memorySample) int { return m.ProxyKiB }), "%.1f", ""),
			row(fmt.Sprintf("%d users: all", users), mem(func(m memorySample) int { return m.TotalKiB }), "%.1f", ""),
			row(fmt.Sprintf("%d users: all, PSS", users), mem(func(m memorySample) int { return m.TotalPSSKiB }), "%.1f", allGoal),
		)
	}
	table("Memory (RSS unless PSS), MiB; all counts user servers and their children;\n"+
		"  a sum of RSS counts pages that processes share once per process, PSS once in all", memRows)

	px := func(get func(*proxyResult) float64) func(*hubResult) float64 {
		return func(h *hubResult) float64 {
			if h.Proxy == nil {
				return 0
			}
			return get(h.Proxy)
		}
	}
	share := func(p *proxyResult) float64 {
		if p.Direct.RequestsPerSec == 0 {
			return 0
		}
		return p.Proxied.RequestsPerSec / p.Direct.RequestsPerSec
	}
	// manyShare compares the proxied share of direct throughput with many
	// routes and with one, so that a machine slowed by the started servers
	// behind the routes does not count against the proxy.
	manyShare := func(p *proxyResult) float64 {
		if p.ManyRoutes == nil || p.DirectMany == nil || p.DirectMany.RequestsPerSec == 0 || share(p) == 0 {
			return 0
		}
		return p.ManyRoutes.RequestsPerSec / p.DirectMany.RequestsPerSec / share(p)
	}
	many := func(get func(wrkResult) float64) func(*proxyResult) float64 {
		return func(p *proxyResult) float64 {
			if p.ManyRoutes == nil {
				return 0
			}
			return get(*p.ManyRoutes)
		}
	}
	table("Proxy (wrk, 2 threads, 50 connections, GET of 3 bytes)", [][]string{
		row("direct req/s", px(func(p *proxyResult) float64 { return p.Direct.RequestsPerSec }), "%.0f", ""),
		row("proxied req/s", px(func(p *proxyResult) float64 { return p.Proxied.RequestsPerSec }), "%.0f", ""),
		row("proxied/direct", px(share), "%.2f", fmt.Sprintf(">= %.2f", goalProxyShare)),
		row("direct p50 ms", px(func(p *proxyResult) float64 { return p.Direct.P50ms }), "%.2f", ""),
		row("proxied p50 ms", px(func(p *proxyResult) float64 { return p.Proxied.P50ms }), "%.2f", ""),
		row("direct p99 ms", px(func(p *proxyResult) float64 { return p.Direct.P99ms }), "%.2f", ""),
		row("proxied p99 ms", px(func(p *proxyResult) float64 { return p.Proxied.P99ms }), "%.2f", fmt.Sprintf("< %d", goalP99ms)),
		row("many routes req/s", px(many(func(x wrkResult) float64 { return x.RequestsPerSec })), "%.0f", ""),
		row("many routes/1 route", px(func(p *proxyResult) float64 {
			if p.ManyRoutes == nil || p.Proxied.RequestsPerSec == 0 {
				return 0
			}
			return p.ManyRoutes.RequestsPerSec / p.Proxied.RequestsPerSec
		}), "%.2f", ""),
		row("direct, many routes req/s", px(func(p *proxyResult) float64 {
			if p.DirectMany == nil {
				return 0
			}
			return p.DirectMany.RequestsPerSec
		}), "%.0f", ""),
		row("many routes/1 route, same load", px(manyShare), "%.2f", ">= 1.00"),
		row("many routes p99 ms", px(many(func(x wrkResult) float64 { return x.P99ms })), "%.2f", ""),
		row("errors", px(func(p *proxyResult) float64 {
			n := p.Direct.Errors + p.Proxied.Errors
			for _, x := range []*wrkResult{p.DirectMany, p.ManyRoutes} {
				if x != nil {
					n += x.Errors
				}
			}
			return float64(n)
		}), "%.0f", "0"),
	})
	for _, h := range []*hubResult{py, gojo} {
		if h == nil {
			continue
		}
		if h.Proxy != nil && h.Proxy.ManyRoutes != nil {
			fmt.Fprintf(w, "%s: %d routes added in %.2f s through %s\n", h.Name, h.Proxy.Routes, h.Proxy.RoutesMs/1000, h.Proxy.RoutesBy)
		}
		for _, e := range h.Errors {
			fmt.Fprintf(w, "\n%s: error: %s\n", h.Name, e)
		}
	}
}

func sortedKeys(m map[int]bool) []int {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
