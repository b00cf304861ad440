"""The officers' loop: cases go to plain-clothes officers by SMS, their findings come back.

    answers.py    the roster, the grammar of an officer's SMS, who may change a case (pure)
    texts.py      what the loop says by SMS: dispatches, confirmations, notices (pure)
    scrub.py      the reporter's numbers and names out of what a dispatch quotes (pure)
    bridge.py     the bridge's side of an officer's SMS: gather facts, carry out the judgement
"""
