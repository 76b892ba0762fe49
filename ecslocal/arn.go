package ecslocal

import (
	"fmt"
	"strconv"
	"strings"
)

// ARNs in the formats ECS uses today (the "long" ARN format, which includes the cluster
// name in service and task ARNs).

func (s *Server) arn(resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", s.cfg.region, s.cfg.account, resource)
}

func (s *Server) taskDefARN(family string, rev int) string {
	return s.arn(fmt.Sprintf("task-definition/%s:%d", family, rev))
}

func (s *Server) clusterARN(name string) string { return s.arn("cluster/" + name) }

func (s *Server) serviceARN(cluster, name string) string {
	return s.arn("service/" + cluster + "/" + name)
}

func (s *Server) taskARN(cluster, id string) string { return s.arn("task/" + cluster + "/" + id) }

// resourceOf splits one of this server's ARNs into its resource type and the rest
// ("task-definition", "web:3"). ok is false for anything else, including ARNs of another
// region or account.
func (s *Server) resourceOf(arn string) (kind, rest string, ok bool) {
	prefix := s.arn("")
	r, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return "", "", false
	}
	kind, rest, ok = strings.Cut(r, "/")
	return kind, rest, ok && rest != ""
}

// lastSegment returns what follows the last "/" of an ARN or name: a name passed as
// itself is returned unchanged.
func lastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}

// splitFamilyRev splits "family:rev". hasRev is false for a bare family.
func splitFamilyRev(ref string) (family string, rev int, hasRev bool, err error) {
	f, r, found := strings.Cut(ref, ":")
	if !found {
		return ref, 0, false, nil
	}
	n, err := strconv.Atoi(r)
	if err != nil || n < 1 {
		return "", 0, false, fmt.Errorf("invalid revision %q", r)
	}
	return f, n, true, nil
}
