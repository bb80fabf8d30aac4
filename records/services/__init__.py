"""Write paths of the records domain: each public function is one transaction and audits itself."""
