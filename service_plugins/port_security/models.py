"""Tables of security groups, their rules, port bindings, port security and allowed address pairs."""
