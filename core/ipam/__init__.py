"""IP address management: subnet request checks, fixed IP and MAC allocation,
and carving subnets out of subnet pools."""
