"""The self-service line (like BPJS's VIKA): participants call the branch's number and hear, in Bahasa
Indonesia, their membership status, their family's bill with its virtual account, how to pay, or ask for a
call back."""
