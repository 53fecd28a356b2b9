"""The haproxy agent of LBaaS v2: one namespace and one haproxy per load balancer."""
