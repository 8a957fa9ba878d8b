
test json for sharness test